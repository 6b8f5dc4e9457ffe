"""The ``[context]`` settings section (``NEXUS_CONTEXT_*`` in the environment)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ContextSettings:
    # Where stored contexts live; default: `contexts/` next to the workspace's index.
    store_dir: Path | None = None
    # Contexts expire this long after they are created (seconds); 0 keeps them until deleted.
    ttl: int = 7 * 86_400
    # The most tokens a context may hold (the seed's X-Context-Size default).
    max_tokens: int = 1_000_000
    # Streaming chunk size in bytes.
    chunk_size: int = 64 * 1024
    # Text is compressed in independent blocks of this many bytes: the unit of memory when streaming.
    block_size: int = 256 * 1024
    compression_level: int = 3
    # A folder holding o200k_base.tiktoken(.gz) / cl100k_base.tiktoken(.gz) for exact token counts.
    tokenizer_dir: Path | None = None
