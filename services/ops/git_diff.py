"""``git.diff``: unstaged changes (work tree vs index), ``staged`` ones (index vs HEAD), the work tree
against ``ref`` (like ``git diff REF``), or ``ref`` as ``A..B`` between two commits. Bounded: past
``maxBytes`` of hunk text, files keep their names and counts and lose their hunks (``truncated``)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Annotated

from pydantic import Field

from ..call import Call
from ..codec import WIRE, Bool, Int, PathText
from ..identity import Role
from ..operation import operation
from ._git import repository, workspace_path

Rev = Annotated[str, Field(min_length=1, max_length=256)]


@dataclasses.dataclass(frozen=True, slots=True)
class GitDiffParams:
    __pydantic_config__ = WIRE
    staged: Bool = False
    ref: Rev | None = None
    paths: Annotated[tuple[PathText, ...], Field(max_length=100)] = ()
    context_lines: Annotated[Int, Field(ge=0, le=100)] = 3
    max_bytes: Annotated[Int, Field(ge=1000, le=10_000_000)] = 400_000


@dataclasses.dataclass(frozen=True, slots=True)
class DiffHunk:
    __pydantic_config__ = WIRE
    old_start: int
    old_lines: int
    new_start: int
    new_lines: int
    header: str
    text: str


@dataclasses.dataclass(frozen=True, slots=True)
class DiffFile:
    __pydantic_config__ = WIRE
    path: str
    old_path: str | None
    status: str
    binary: bool
    additions: int
    deletions: int
    hunks: tuple[DiffHunk, ...]
    truncated: bool


@dataclasses.dataclass(frozen=True, slots=True)
class GitDiff:
    __pydantic_config__ = WIRE
    files: tuple[DiffFile, ...]
    patch: str  # the same changes as one unified-diff-like text


@operation("git.diff", params=GitDiffParams, result=GitDiff, role=Role.VIEWER, rate="read", message="git:diff")
async def diff(call: Call, p: GitDiffParams) -> GitDiff:
    """Staged, unstaged, against a ref, or between two commits; renames found, binaries named."""
    from nexus.engine.vcs import diff as read_diff
    from nexus.engine.vcs import patch_text

    repo = await repository(call)
    paths = tuple(workspace_path(call, path) for path in p.paths)
    found = await asyncio.to_thread(read_diff, repo, staged=p.staged, ref=p.ref, paths=paths,
                                    context_lines=p.context_lines, max_bytes=p.max_bytes)
    files = tuple(DiffFile(f.path, f.old_path, f.status, f.binary, f.additions, f.deletions,
                           tuple(DiffHunk(h.old_start, h.old_lines, h.new_start, h.new_lines, h.header, h.text)
                                 for h in f.hunks), f.truncated) for f in found)
    return GitDiff(files, patch_text(found))
