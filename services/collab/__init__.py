"""Live collaboration: rooms of Yjs documents (pycrdt) synced over the y-websocket protocol, journaled
in LMDB before anyone is told about an update. Transport-free: the gateway's WebSocket adapter
(``nexus.gateway.collab``) feeds it messages through :class:`Peer`; clients live with the CLI
(``nexus.cli.collab_client``)."""

from __future__ import annotations

from .journal import Journal, JournalError
from .protocol import ProtocolError
from .room import TEXT, Peer, Room
from .rooms import CollabSettings, RoomError, Rooms, SaveConflict, Saved, check_name

__all__ = ["TEXT", "CollabSettings", "Journal", "JournalError", "Peer", "ProtocolError", "Room", "RoomError",
           "Rooms", "SaveConflict", "Saved", "check_name"]
