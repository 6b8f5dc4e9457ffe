"""The ``[index]`` settings section (``NEXUS_INDEX_*`` in the environment)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class IndexSettings:
    # Keep the index in the workspace's `.nexus/` folder instead of the user cache folder.
    in_workspace: bool = False
    cache_dir: Path | None = None
    max_file_size: int = 2_000_000
    # Files whose average line is longer than this are minified or generated: left out.
    max_average_line: int = 1000
    workers: int = 0  # 0: one per CPU
    exclude: tuple[str, ...] = ()  # extra gitignore-style patterns
