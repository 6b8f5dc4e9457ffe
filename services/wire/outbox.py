"""The bounded send side of one connection: what keeps a client that stops reading from growing the
server's memory.

Every outbound message goes through :meth:`Outbox.send`, which hands it to the transport at once while
the bytes not yet accepted by the transport stay under ``window_bytes``; past that, senders wait (the
handler producing output pauses: backpressure reaches the kernel or the model stream). A transport
accepts a message once its own buffer is below its high-water mark (``websockets``' ``write_limit``,
tornado's flushed future), so the memory one connection can hold is about ``window_bytes`` plus that
buffer plus one message per in-flight request, whatever the client does.

A client that reads nothing for ``send_timeout`` seconds while output is pending is disconnected by the
dispatcher's sweeper (:meth:`Outbox.stalled`), which keeps timers off the per-message path.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Protocol

from .messages import ConnectionGone


class Transport(Protocol):
    """One WebSocket connection as the protocol needs it (websockets and tornado adapters implement it)."""

    async def send(self, data: bytes) -> None:
        """Send UTF-8 JSON ``data`` as one text frame, returning when the transport has taken it.

        Raises ConnectionGone when the connection is closed.
        """

    def close(self, code: int, reason: str) -> None:
        """Start closing the connection with ``code``; must not block."""

    def abort(self) -> None:
        """Drop the connection now, without a closing handshake (the peer is not reading, so one could
        not complete)."""


class Outbox:
    __slots__ = (
        "_loop",
        "_progress_at",
        "_transport",
        "_waiters",
        "_window",
        "blocked",
        "closed",
        "peak_bytes",
        "pending_bytes",
    )

    def __init__(self, transport: Transport, window_bytes: int) -> None:
        self._transport = transport
        self._window = window_bytes
        self._loop = asyncio.get_running_loop()
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._progress_at = self._loop.time()
        self.pending_bytes = 0  # handed to the transport, not yet accepted by it
        self.peak_bytes = 0
        self.closed = False
        self.blocked = asyncio.Event()  # set once a sender had to wait: tests and metrics watch it

    async def send(self, data: bytes) -> None:
        """Raises ConnectionGone once the connection is closed or was given up on."""
        if self.closed:
            raise ConnectionGone("connection closed")
        size = len(data)
        while self.pending_bytes and self.pending_bytes + size > self._window:
            self.blocked.set()
            waiter = self._loop.create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
            if self.closed:
                raise ConnectionGone("connection closed")
        if not self.pending_bytes:
            self._progress_at = self._loop.time()
        self.pending_bytes += size
        self.peak_bytes = max(self.peak_bytes, self.pending_bytes)
        try:
            await self._transport.send(data)
        finally:
            self.pending_bytes -= size
            self._progress_at = self._loop.time()
            self._wake()

    def stalled(self, now: float, timeout: float) -> bool:
        """True when output has been pending with no progress for more than ``timeout`` seconds."""
        return self.pending_bytes > 0 and now - self._progress_at > timeout

    def fail(self) -> None:
        """Give up on the connection: every waiting and future sender gets ConnectionGone."""
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        # Wake them all in FIFO order; each re-checks the window, so none overtakes an earlier one
        # that fits, and a too-large one waits for the next completion.
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
