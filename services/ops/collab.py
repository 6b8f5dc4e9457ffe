"""``collab.rooms`` and ``collab.save``: the live sessions a gateway hosts (``/ws/collab/<room>``).

Editing happens over y-websocket, not here; these are the two things a client asks in a request: who
is in which room, and "write the shared text back to its file" (explicit, never automatic, and
refused with ``conflict`` when the disk copy changed since the session loaded it).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..call import Call
from ..codec import WIRE, Bool, PathText
from ..errors import ErrorCode, OperationError
from ..identity import Role
from ..operation import operation


@dataclasses.dataclass(frozen=True, slots=True)
class RoomsParams:
    __pydantic_config__ = WIRE


@dataclasses.dataclass(frozen=True, slots=True)
class RoomInfo:
    __pydantic_config__ = WIRE
    room: str
    clients: int
    characters: int
    path: str | None  # the workspace file it is bound to (save writes there)
    presence: tuple[dict[str, Any], ...]  # one awareness state per client: user, cursor, ...


@dataclasses.dataclass(frozen=True, slots=True)
class RoomsResult:
    __pydantic_config__ = WIRE
    rooms: tuple[RoomInfo, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class SaveParams:
    __pydantic_config__ = WIRE
    room: PathText
    force: Bool = False  # overwrite the file even if it changed on disk since the session loaded it


@dataclasses.dataclass(frozen=True, slots=True)
class SaveResult:
    __pydantic_config__ = WIRE
    room: str
    path: str
    bytes: int
    overwrote_changes: bool


def _rooms(call: Call) -> Any:
    rooms = call.backends.collab
    if rooms is None:
        raise OperationError(ErrorCode.UNAVAILABLE, "live collaboration is hosted by the gateway (nexus gateway): "
                             "this server has no rooms")
    return rooms


@operation("collab.rooms", params=RoomsParams, result=RoomsResult, role=Role.VIEWER, rate="query",
           message="collab:rooms")
async def rooms(call: Call, p: RoomsParams) -> RoomsResult:
    """The open rooms: how many clients, how long the text, the file each is bound to, who is there."""
    hosted = _rooms(call)
    infos = []
    for name, room in sorted(hosted.open_rooms.items()):
        meta = hosted.journal.meta(name)
        infos.append(RoomInfo(name, len(room.members), len(room.source), meta.get("path"),
                              tuple(room.presence())))
    return RoomsResult(tuple(infos))


@operation("collab.save", params=SaveParams, result=SaveResult, role=Role.DEVELOPER, rate="query",
           message="collab:save")
async def save(call: Call, p: SaveParams) -> SaveResult:
    """Write a room's shared text to the workspace file it was opened from.

    Fails with ``conflict`` when the file changed on disk since the session loaded or last saved it
    (``force`` overwrites), and ``not_found`` for a room not bound to a file."""
    from nexus.services.collab import RoomError, SaveConflict

    hosted = _rooms(call)
    try:
        saved = await hosted.save(p.room, force=p.force)
    except SaveConflict as exc:
        raise OperationError(ErrorCode.CONFLICT, str(exc)) from exc
    except RoomError as exc:
        raise OperationError(ErrorCode.NOT_FOUND, str(exc)) from exc
    return SaveResult(saved.room, saved.path, saved.bytes, saved.overwrote_changes)
