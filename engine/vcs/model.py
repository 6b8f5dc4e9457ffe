"""The values the version-control reader returns: frozen, plain, and free of pygit2 objects, so they
cross threads and faces (paths are workspace-relative '/'-paths; lines are 1-based like git's)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Head:
    commit: str | None  # None: an unborn branch (no commit yet)
    branch: str | None  # None: detached
    detached: bool
    shallow: bool
    state: str  # "none", or the operation in progress: "rebase", "merge", "cherry-pick", ...
    subject: str = ""


@dataclass(frozen=True, slots=True)
class FileStatus:
    path: str
    index: str  # "" unchanged, or added / modified / deleted / renamed / typechange
    worktree: str  # "" unchanged, or untracked / modified / deleted / renamed / typechange / unreadable
    conflicted: bool = False
    submodule: bool = False
    old_path: str | None = None  # renames


@dataclass(frozen=True, slots=True)
class Hunk:
    old_start: int
    old_lines: int
    new_start: int
    new_lines: int
    header: str
    text: str  # the hunk's lines with their +/-/space prefixes


@dataclass(frozen=True, slots=True)
class FileDiff:
    path: str
    old_path: str | None
    status: str  # added / modified / deleted / renamed / copied / typechange
    binary: bool
    additions: int
    deletions: int
    hunks: tuple[Hunk, ...] = ()
    truncated: bool = False  # hunks left out past the diff's size budget


@dataclass(frozen=True, slots=True)
class Commit:
    id: str
    parents: tuple[str, ...]
    author: str
    email: str
    time: int  # seconds since the epoch (author time)
    subject: str
    message: str
    files: tuple[str, ...] = field(default=())  # touched paths, when asked for


@dataclass(frozen=True, slots=True)
class BlameHunk:
    start_line: int  # 1-based, in the file as of the blamed commit
    lines: int
    commit: str
    author: str
    time: int
    subject: str
