"""``index``: build or bring up to date the workspace index (one run at a time per server; another
process writing the same index answers ``busy`` naming it)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from nexus.engine.errors import IndexLockedError

from ..call import Call
from ..codec import WIRE
from ..errors import ErrorCode, OperationError
from ..identity import Role
from ..operation import operation
from ..permission import Permission


@dataclasses.dataclass(frozen=True, slots=True)
class IndexParams:
    __pydantic_config__ = WIRE


@operation("index", params=IndexParams, result=dict[str, Any], role=Role.DEVELOPER, rate="index",
           message="index:run", cancellable=False, permission=Permission.EDIT)
async def index(call: Call, p: IndexParams) -> dict[str, Any]:
    """Build or update the index; the summary of ``nexus index --json`` (files by language, symbols,
    chunks, bytes, time, skipped files and why)."""
    handle = call.backends.workspace
    ws = await handle.get()
    async with handle.writing:
        try:
            summary = await asyncio.to_thread(ws.index)
        except IndexLockedError as exc:  # `nexus index` or a language server is writing it now
            raise OperationError(ErrorCode.BUSY, str(exc)) from exc
    data: dict[str, Any] = summary.to_json()
    return data
