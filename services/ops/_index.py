"""The workspace index as the read operations need it: open, fresh (reloaded after another writer's
commit), or ``unavailable`` for a workspace never indexed."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ..errors import unavailable_no_index

if TYPE_CHECKING:
    from nexus.engine import Workspace

    from ..call import Call


async def indexed_workspace(call: Call) -> Workspace:
    """Raises OperationError(unavailable) when the workspace has no index yet."""
    handle = call.backends.workspace
    ws = await handle.get()
    if not await asyncio.to_thread(handle.fresh, ws):
        raise unavailable_no_index(handle.root)
    return ws


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
