"""``git.blame``: which commit last changed each line of a file, as of ``ref`` (default HEAD). Lines are
1-based and inclusive; uncommitted edits have no commit and are not attributed."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Annotated

from pydantic import Field

from ..call import Call
from ..codec import WIRE, Int, PathText
from ..identity import Role
from ..operation import operation
from ._git import repository, workspace_path


@dataclasses.dataclass(frozen=True, slots=True)
class GitBlameParams:
    __pydantic_config__ = WIRE
    path: PathText
    start_line: Annotated[Int, Field(ge=1)] | None = None
    end_line: Annotated[Int, Field(ge=1)] | None = None
    ref: Annotated[str, Field(min_length=1, max_length=256)] = "HEAD"


@dataclasses.dataclass(frozen=True, slots=True)
class BlameRange:
    __pydantic_config__ = WIRE
    start_line: int
    lines: int
    commit: str
    author: str
    time: int
    subject: str


@dataclasses.dataclass(frozen=True, slots=True)
class GitBlame:
    __pydantic_config__ = WIRE
    path: str
    ranges: tuple[BlameRange, ...]


@operation("git.blame", params=GitBlameParams, result=GitBlame, role=Role.VIEWER, rate="read",
           message="git:blame")
async def blame(call: Call, p: GitBlameParams) -> GitBlame:
    """Who last changed which lines of a file, with when and the commit's subject."""
    from nexus.engine.vcs import blame as read_blame

    repo = await repository(call)
    path = workspace_path(call, p.path)
    hunks = await asyncio.to_thread(read_blame, repo, path, p.start_line, p.end_line, p.ref)
    return GitBlame(path, tuple(BlameRange(h.start_line, h.lines, h.commit, h.author, h.time, h.subject)
                                for h in hunks))
