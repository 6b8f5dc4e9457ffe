"""The workspace index as the read operations need it: open, fresh (reloaded after another writer's
commit), or ``unavailable`` for a workspace never indexed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from ..errors import unavailable_no_index

T = TypeVar("T")

if TYPE_CHECKING:
    from nexus.engine import Workspace

    from ..call import Call


async def indexed_workspace(call: Call) -> Workspace:
    """The open workspace, reloaded if another writer committed; raises OperationError(unavailable) when
    it has no index yet. Prefer :func:`on_index` when the work that follows runs in a thread anyway."""
    handle = call.backends.workspace
    ws = await handle.get()
    if not await asyncio.to_thread(handle.fresh, ws):
        raise unavailable_no_index(handle.root)
    return ws


async def on_index(call: Call, fn: Callable[[Workspace], T]) -> T:
    """``fn(ws)`` in a worker thread once the index is known fresh, in one thread hop (a hop costs tens
    of microseconds on a quiet machine and milliseconds on a loaded one). Raises OperationError
    (unavailable) when the workspace has no index yet."""
    handle = call.backends.workspace
    ws = await handle.get()

    def run() -> T:
        if not handle.fresh(ws):
            raise unavailable_no_index(handle.root)
        return fn(ws)

    return await asyncio.to_thread(run)


def grammars(languages: tuple[str, ...], where: str = "search:query") -> set[str]:
    """The index's language names for user spellings (``py``, ``ts``, ``c++``); raises OperationError."""
    from nexus.engine.languages import expand_language

    from ..errors import ErrorCode, OperationError

    out: set[str] = set()
    for name in languages:
        try:
            out |= set(expand_language(name))
        except ValueError as exc:
            raise OperationError(ErrorCode.BAD_REQUEST, f"{where}: payload.languages: {exc}") from None
    return out
