"""``status``: what the workspace index holds, its size on disk, when it was written, and pending work."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from ..call import Call
from ..codec import WIRE
from ..identity import Role
from ..operation import operation


@dataclasses.dataclass(frozen=True, slots=True)
class StatusParams:
    __pydantic_config__ = WIRE


@operation("status", params=StatusParams, result=dict[str, Any], role=Role.VIEWER, rate="query",
           message="index:status")
async def status(call: Call, p: StatusParams) -> dict[str, Any]:
    """The index's status as ``nexus status --json`` prints it."""
    ws = await call.backends.workspace.get()
    data: dict[str, Any] = (await asyncio.to_thread(ws.status)).to_json()
    return data
