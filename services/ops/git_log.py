"""``git.log``: commits reachable from ``ref`` (default HEAD; ``A..B`` for a range), optionally only
those that changed ``path``. The walk is bounded (``capped`` says it stopped first)."""

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
class GitLogParams:
    __pydantic_config__ = WIRE
    ref: Annotated[str, Field(min_length=1, max_length=256)] = "HEAD"
    path: PathText | None = None
    limit: Annotated[Int, Field(ge=1, le=1000)] = 50


@dataclasses.dataclass(frozen=True, slots=True)
class LogEntry:
    __pydantic_config__ = WIRE
    id: str
    parents: tuple[str, ...]
    author: str
    email: str
    time: int  # seconds since the epoch
    subject: str
    message: str


@dataclasses.dataclass(frozen=True, slots=True)
class GitLog:
    __pydantic_config__ = WIRE
    commits: tuple[LogEntry, ...]
    capped: bool


@operation("git.log", params=GitLogParams, result=GitLog, role=Role.VIEWER, rate="read", message="git:log")
async def log(call: Call, p: GitLogParams) -> GitLog:
    """Commits of a ref or range, of one file or all, newest first (a bounded walk)."""
    from nexus.engine.vcs import log_commits

    repo = await repository(call)
    path = workspace_path(call, p.path) if p.path is not None else None
    commits, capped = await asyncio.to_thread(log_commits, repo, p.ref, path, p.limit)
    return GitLog(tuple(LogEntry(c.id, c.parents, c.author, c.email, c.time, c.subject, c.message)
                        for c in commits), capped)
