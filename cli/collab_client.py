"""A y-websocket client on pycrdt for Nexus's own tools (the Neovim helper, the tests, the benchmark),
with the CLI because it is a client of the gateway: ``nexus.services`` never touches a socket.

It asks the gateway for acknowledgements (``?ack=1``): :attr:`CollabClient.acked` counts this
connection's updates the server has journaled, so a caller can wait until an edit is durable
(:meth:`CollabClient.wait_acked`). Positions are Python string indices; pycrdt's ``Text`` counts UTF-8
bytes, which this class converts (Yjs in JavaScript counts UTF-16 units: each side converts its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote, urlencode

import pycrdt
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from nexus.services.collab.protocol import (
    ACK,
    AWARENESS,
    STEP1,
    STEP2,
    SYNC,
    UPDATE,
    AwarenessEntry,
    Reader,
    awareness_message,
    encode_awareness,
    parse_awareness,
    sync_message,
)
from nexus.services.collab.room import TEXT

log = logging.getLogger(__name__)


def room_url(base: str, room: str, token: str, *, ack: bool = True) -> str:
    """``ws://host:port/ws/collab/<room>?token=...`` from the gateway's address (any path on it is dropped)."""
    scheme, _, rest = base.partition("://")
    host = rest.split("/", 1)[0]
    query = {"token": token, **({"ack": "1"} if ack else {})}
    return f"{scheme}://{host}/ws/collab/{quote(room, safe='/')}?{urlencode(query)}"


def byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


class CollabClient:
    def __init__(self, url: str, *, doc: pycrdt.Doc[Any] | None = None) -> None:
        self.url = url
        self.doc = doc or pycrdt.Doc()
        self.text = self.doc.get(TEXT, type=pycrdt.Text)
        self.sent = 0  # updates sent on this connection
        self.acked = 0
        self.peers: dict[int, dict[str, Any]] = {}  # awareness client id -> state (others only)
        self.on_remote: list[Callable[[], None]] = []
        self.on_presence: list[Callable[[], None]] = []
        self.synced = asyncio.Event()
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason = ""
        self._ws: ClientConnection | None = None
        self._remote = False
        self._changed = asyncio.Condition()
        self._clock = itertools.count(1)
        self._reader: asyncio.Task[None] | None = None
        self._outbox: asyncio.Queue[bytes] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._subscription = self.doc.observe(self._local_update)

    @property
    def source(self) -> str:
        return str(self.text)

    async def connect(self, url: str | None = None, *, timeout: float = 10.0) -> CollabClient:
        """Connect (again, to ``url`` if given) and wait until the first sync is done.

        Raises ConnectionError (refused, closed before the sync), OSError, TimeoutError."""
        if self._ws is not None:
            await self._stop_tasks()
        self.url = url or self.url
        self._ws = await connect(self.url, max_size=None, open_timeout=timeout)
        # A reconnection: what was sent before is either journaled or will be in the sync reply below.
        while not self._outbox.empty():
            self._outbox.get_nowait()
        self.sent = self.acked = 0
        self.synced.clear()
        self.closed.clear()
        self._writer = asyncio.get_running_loop().create_task(self._write())
        await self._ws.send(sync_message(STEP1, self.doc.get_state()))
        self._reader = asyncio.get_running_loop().create_task(self._read())
        synced = asyncio.ensure_future(self.synced.wait())
        closed = asyncio.ensure_future(self.closed.wait())
        done, _ = await asyncio.wait({synced, closed}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for task in (synced, closed):
            task.cancel()
        if not self.synced.is_set():
            raise ConnectionError(f"no sync from {self.url.split('?')[0]}: {self.close_code} {self.close_reason}")
        return self

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        await self._stop_tasks()

    async def _stop_tasks(self) -> None:
        for task in (self._reader, self._writer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                    await task

    async def __aenter__(self) -> CollabClient:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def insert(self, index: int, value: str) -> None:
        """Insert at a string index of the current text."""
        self.text.insert(byte_offset(self.source, index), value)

    def delete(self, index: int, length: int) -> None:
        source = self.source
        start = byte_offset(source, index)
        end = byte_offset(source, index + length)
        if end > start:
            del self.text[start:end]

    def replace_all(self, value: str) -> None:
        with self.doc.transaction():
            current = self.source
            if current == value:
                return
            prefix = 0
            limit = min(len(current), len(value))
            while prefix < limit and current[prefix] == value[prefix]:
                prefix += 1
            suffix = 0
            while (suffix < limit - prefix and current[len(current) - 1 - suffix] == value[len(value) - 1 - suffix]):
                suffix += 1
            self.delete(prefix, len(current) - prefix - suffix)
            self.insert(prefix, value[prefix:len(value) - suffix])

    def set_presence(self, state: dict[str, Any] | None) -> None:
        """Publish this client's awareness state (cursor, selection); None says it left."""
        entry = AwarenessEntry(self.doc.client_id, next(self._clock), state)
        self._outbox.put_nowait(awareness_message(encode_awareness([entry])))

    async def wait_acked(self, timeout: float = 10.0) -> None:
        """Until every update sent so far is journaled by the server. Raises TimeoutError."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: self.acked >= self.sent or self.closed.is_set())
        if self.acked < self.sent:
            raise ConnectionError(f"closed with {self.sent - self.acked} update(s) unacknowledged")

    async def wait_for(self, predicate: Callable[[CollabClient], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: predicate(self))

    def _local_update(self, event: pycrdt.TransactionEvent) -> None:
        if self._remote:
            return
        self.sent += 1
        self._outbox.put_nowait(sync_message(UPDATE, event.update))

    async def _write(self) -> None:
        assert self._ws is not None
        with contextlib.suppress(ConnectionClosed):
            while True:
                message = await self._outbox.get()
                await self._ws.send(message)

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for message in self._ws:
                if isinstance(message, str):
                    continue
                self._handle(message)
                async with self._changed:
                    self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self._ws.close_code
            self.close_reason = self._ws.close_reason or ""
            self.closed.set()
            async with self._changed:
                self._changed.notify_all()

    def _handle(self, message: bytes) -> None:
        reader = Reader(message)
        kind = reader.varuint()
        if kind == ACK:
            self.acked = max(self.acked, reader.varuint())
        elif kind == SYNC:
            step = reader.varuint()
            body = reader.payload()
            if step == STEP1:
                self._outbox.put_nowait(sync_message(STEP2, self.doc.get_update(body)))
            else:
                self._apply(body)
                if step == STEP2:
                    self.synced.set()
        elif kind == AWARENESS:
            for entry in parse_awareness(reader.payload()):
                if entry.client == self.doc.client_id:
                    continue
                if entry.state is None:
                    self.peers.pop(entry.client, None)
                else:
                    self.peers[entry.client] = entry.state
            for callback in self.on_presence:
                callback()

    def _apply(self, update: bytes) -> None:
        self._remote = True
        try:
            self.doc.apply_update(update)
        finally:
            self._remote = False
        for callback in self.on_remote:
            callback()


@contextlib.asynccontextmanager
async def joined(url: str) -> AsyncIterator[CollabClient]:
    client = CollabClient(url)
    await client.connect()
    try:
        yield client
    finally:
        await client.close()
