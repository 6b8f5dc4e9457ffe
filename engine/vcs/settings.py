"""The ``[git]`` settings section (``NEXUS_GIT_*`` in the environment)."""

from __future__ import annotations

from dataclasses import dataclass

from .history import MAX_WALK


@dataclass(frozen=True, slots=True)
class GitSettings:
    blame_hover: bool = False  # the language server's hover adds "last changed by / when / subject"
    history: bool = True  # retrieval's history and co-change signals
    max_commits: int = MAX_WALK  # the cap on commits any history walk reads
