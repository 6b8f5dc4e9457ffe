"""What the git operations share: the workspace's repository (``unavailable`` outside one) and
workspace paths checked to stay inside the workspace."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ErrorCode, OperationError

if TYPE_CHECKING:
    from nexus.engine.vcs import Repository

    from ..call import Call


async def repository(call: Call) -> Repository:
    """The repository holding the workspace; OperationError(unavailable) when there is none."""
    from nexus.engine.vcs import open_repository

    root = call.backends.workspace.root
    found = await asyncio.to_thread(open_repository, root)
    if found is None:
        raise OperationError(ErrorCode.UNAVAILABLE, f"{root} is not in a git repository (or it is bare): "
                             "git features need `git init` or a clone")
    return found


def workspace_path(call: Call, path: str) -> str:
    """``path`` as a workspace-relative POSIX path; raises OperationError(invalid_path) outside it."""
    from nexus.engine.errors import WorkspaceError
    from nexus.engine.paths import resolve_inside

    root = Path(call.backends.workspace.root).resolve()
    try:
        real = resolve_inside(root, path)
    except WorkspaceError as exc:
        raise OperationError(ErrorCode.INVALID_PATH, str(exc)) from exc
    rel = real.relative_to(root).as_posix()
    if rel == ".":
        raise OperationError(ErrorCode.INVALID_PATH, f"{path} is the workspace itself, not a file")
    return rel
