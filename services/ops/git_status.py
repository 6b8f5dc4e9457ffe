"""``git.status``: the branch, HEAD, any operation in progress (a rebase, a merge) and the changed files
of the working tree and the index, for workspace paths."""

from __future__ import annotations

import asyncio
import dataclasses

from ..call import Call
from ..codec import WIRE, Bool
from ..identity import Role
from ..operation import operation
from ._git import repository


@dataclasses.dataclass(frozen=True, slots=True)
class GitStatusParams:
    __pydantic_config__ = WIRE
    untracked: Bool = True


@dataclasses.dataclass(frozen=True, slots=True)
class HeadInfo:
    __pydantic_config__ = WIRE
    commit: str | None  # None on a branch with no commit yet
    branch: str | None  # None when detached
    detached: bool
    shallow: bool
    state: str  # none, rebase, merge, cherry-pick, revert, bisect, am
    subject: str


@dataclasses.dataclass(frozen=True, slots=True)
class ChangedFile:
    __pydantic_config__ = WIRE
    path: str
    index: str  # "" or added / modified / deleted / renamed / typechange
    worktree: str  # "" or untracked / modified / deleted / renamed / typechange / unreadable
    conflicted: bool
    submodule: bool


@dataclasses.dataclass(frozen=True, slots=True)
class GitStatus:
    __pydantic_config__ = WIRE
    head: HeadInfo
    files: tuple[ChangedFile, ...]


@operation("git.status", params=GitStatusParams, result=GitStatus, role=Role.VIEWER, rate="read",
           message="git:status")
async def status(call: Call, p: GitStatusParams) -> GitStatus:
    """Branch, HEAD and the changed files of the working tree and the index."""
    repo = await repository(call)

    def read() -> GitStatus:
        head = repo.head()
        files = tuple(ChangedFile(s.path, s.index, s.worktree, s.conflicted, s.submodule)
                      for s in repo.status(p.untracked))
        return GitStatus(HeadInfo(head.commit, head.branch, head.detached, head.shallow, head.state, head.subject),
                         files)

    return await asyncio.to_thread(read)
