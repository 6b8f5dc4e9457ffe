"""``ws://HOST:PORT/ws/collab/<room>``: the y-websocket endpoint of the gateway's live sessions.

The rooms themselves (documents, journal, presence) are :mod:`nexus.services.collab`; this module only
turns one ``websockets`` connection into a room :class:`~nexus.services.collab.Peer`: a bounded outbox
with its own writer task (a reader that stops taking messages is dropped, not waited for), pacing of
each connection's messages (a client that floods waits for its tokens, so its socket backs up and the
room keeps serving everyone else: nothing it sent is dropped, which a CRDT could not recover from),
and the close codes: 1003 text frame, 1007 malformed message, 1008 viewer editing or too slow, 1013
room full.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from urllib.parse import parse_qs, unquote

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from nexus.services.collab import RoomError, Rooms, check_name

from .protocol import Identity, Role

log = logging.getLogger(__name__)

PREFIX = "/ws/collab/"
CLOSE_UNSUPPORTED = 1003
CLOSE_POLICY = 1008
CLOSE_TRY_LATER = 1013


def room_from_path(path: str) -> str:
    """The room a request path names. Raises RoomError."""
    return check_name(unquote(path[len(PREFIX):]))


def wants_ack(query: str) -> bool:
    return parse_qs(query).get("ack", ["0"])[0] in ("1", "true", "yes")


class WebSocketPeer:
    __slots__ = ("_closing", "_limit", "_queue", "_queued", "_ready", "_writer", "can_edit", "user", "wants_ack",
                 "ws")

    def __init__(self, ws: ServerConnection, identity: Identity, *, ack: bool, outbox_bytes: int) -> None:
        self.ws = ws
        self.user = identity.user
        self.can_edit = identity.role >= Role.DEVELOPER
        self.wants_ack = ack
        self._limit = outbox_bytes
        self._queue: collections.deque[bytes] = collections.deque()
        self._queued = 0
        self._ready = asyncio.Event()
        self._closing = False
        self._writer = asyncio.get_running_loop().create_task(self._write())

    def send(self, message: bytes) -> None:
        if self._closing:
            return
        if self._queued + len(message) > self._limit:
            self.close(CLOSE_POLICY, "too slow: the session's updates were not read in time; reconnect to resync")
            return
        self._queue.append(message)
        self._queued += len(message)
        self._ready.set()

    def close(self, code: int, reason: str) -> None:
        if not self._closing:
            self._closing = True
            self._queue.clear()
            asyncio.get_running_loop().create_task(self.ws.close(code, reason))

    async def _write(self) -> None:
        try:
            while True:
                await self._ready.wait()
                while self._queue:
                    message = self._queue.popleft()
                    self._queued -= len(message)
                    await self.ws.send(message)
                self._ready.clear()
        except ConnectionClosed:
            pass

    async def stop(self) -> None:
        self._writer.cancel()
        try:
            await self._writer
        except asyncio.CancelledError:
            pass


class Pacer:
    """A token bucket that makes its caller wait rather than refusing (see the module docstring)."""

    __slots__ = ("burst", "rate", "throttled", "tokens", "updated")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.updated = time.monotonic()
        self.throttled = 0

    async def take(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1.0:
            self.throttled += 1
            await asyncio.sleep((1.0 - self.tokens) / self.rate)
            self.tokens, self.updated = 1.0, time.monotonic()
        self.tokens -= 1.0


class CollabEndpoint:
    def __init__(self, rooms: Rooms) -> None:
        self.rooms = rooms
        self.throttled = 0  # messages a connection had to wait for, in all (flooding clients)
        self.peers: set[WebSocketPeer] = set()

    async def serve(self, ws: ServerConnection, identity: Identity, name: str, *, ack: bool) -> None:
        settings = self.rooms.settings
        peer = WebSocketPeer(ws, identity, ack=ack, outbox_bytes=settings.outbox_bytes)
        try:
            room = await self.rooms.join(name, peer)
        except RoomError as exc:
            await peer.stop()
            await ws.close(CLOSE_TRY_LATER, str(exc)[:120])
            return
        self.peers.add(peer)
        pacer = Pacer(settings.rate, settings.burst)
        log.info("%s joined room %s (%s)", identity.user, name, identity.role.label)
        try:
            async for raw in ws:
                if isinstance(raw, str):
                    peer.close(CLOSE_UNSUPPORTED, "y-websocket messages are binary frames")
                    break
                before = pacer.throttled
                await pacer.take()
                self.throttled += pacer.throttled - before
                await room.receive(peer, raw)
        except ConnectionClosed:
            pass  # a vanished client, possibly in the middle of a sync: the room forgets it below
        finally:
            self.peers.discard(peer)
            await self.rooms.leave(room, peer)
            await peer.stop()
            log.info("%s left room %s", identity.user, name)

    def close_all(self) -> None:
        for peer in list(self.peers):
            peer.close(1001, "server shutting down")
