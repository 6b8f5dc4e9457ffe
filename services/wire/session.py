"""The dispatcher: admits each request (identity, role, rate, concurrency), runs it as a task, streams
its replies, and stops it on ``cancel``, disconnect or shutdown. Transport-agnostic: the ``websockets``
server and the Jupyter extension's tornado handler both feed frames to :meth:`Session.receive`.

One :class:`Dispatcher` per server holds what connections share (routes, rate limiter, metrics, the
draining flag); one :class:`Session` per connection holds its identity, in-flight tasks and outbox.
Refusals are error messages and the connection stays open; only the transport decides to close
(oversize frame, idle, stalled reader, shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Protocol

from .messages import (
    ConnectionGone,
    ErrorCode,
    GatewayError,
    Identity,
    Reply,
    Request,
    RequestId,
    as_gateway_error,
    encode_error,
    encode_reply,
    parse_request,
    valid_id,
)
from .outbox import Outbox, Transport
from .registry import Registry, Route

log = logging.getLogger(__name__)

CLOSE_IDLE = 1000


class Limiter(Protocol):
    def acquire(self, key: str, type_: str) -> float | None:
        """Take one request for ``key`` (a user) and ``type_``; None if allowed, else seconds to wait."""


class Observer(Protocol):
    """Where the dispatcher reports what happened (the gateway's Prometheus metrics implement it)."""

    def request_finished(self, type_: str, outcome: str, seconds: float | None) -> None: ...

    def error_sent(self, code: str) -> None: ...


@dataclasses.dataclass(frozen=True, slots=True)
class SessionLimits:
    max_concurrent: int = 16        # in-flight requests per connection; more get `busy`
    send_window_bytes: int = 1 << 20
    send_timeout: float = 30.0      # pending output with no progress this long: disconnect
    idle_timeout: float = 300.0     # no message and nothing in flight this long: close


class Session:
    """One connection. Implements the handlers' :class:`~.registry.Context`."""

    def __init__(self, dispatcher: Dispatcher, transport: Transport, identity: Identity | None, peer: str) -> None:
        self._dispatcher = dispatcher
        self.transport = transport
        self.outbox = Outbox(transport, dispatcher.limits.send_window_bytes)
        self._identity = identity
        self._peer = peer
        self._tasks: dict[RequestId, asyncio.Task[None]] = {}
        self._cancel_reasons: dict[RequestId, str] = {}
        self._loop = asyncio.get_running_loop()
        self.last_active = self._loop.time()
        self.closed = False
        self.ended = asyncio.Event()  # set once close() has stopped every request

    @property
    def identity(self) -> Identity | None:
        return self._identity

    @property
    def peer(self) -> str:
        return self._peer

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def authenticate(self, identity: Identity) -> None:
        """Raises GatewayError when the server refuses it (e.g. the user has too many connections)."""
        hook = self._dispatcher.on_authenticate
        if hook is not None:
            hook(self, identity)
        self._identity = identity

    async def receive(self, raw: str | bytes) -> None:
        """Handle one inbound frame. Returns once the request is admitted (it runs as its own task) or
        its refusal is sent, so a reader awaiting this stops reading while the client's replies back up.
        """
        self.last_active = self._loop.time()
        try:
            request = parse_request(raw)
        except GatewayError as err:
            await self._send_error(err.request_id, err)
            return
        try:
            await self._dispatch(request)
        except ConnectionGone:
            raise
        except Exception:  # a bug here must cost one request, not the connection
            log.exception("dispatching %s (request %r) failed", request.type, request.id)
            await self._send_error(request.id, GatewayError(
                ErrorCode.INTERNAL, f"{request.type} failed with an internal error (logged on the server)"))

    async def _dispatch(self, request: Request) -> None:
        if request.type == "cancel":
            await self._cancel(request)
            return
        route = self._dispatcher.registry.get(request.type)
        refusal = self._admit(request, route)
        if refusal is not None:
            if route is not None:
                self._dispatcher.observe(route.type, "rejected", None)
            await self._send_error(request.id, refusal)
            return
        assert route is not None
        self._tasks[request.id] = self._loop.create_task(self._run(request, route, time.perf_counter()))

    def _admit(self, request: Request, route: Route | None) -> GatewayError | None:
        d = self._dispatcher
        rid = request.id
        if d.draining:
            return GatewayError(ErrorCode.SHUTTING_DOWN, "the gateway is shutting down; reconnect later")
        if route is None:
            return GatewayError(ErrorCode.UNKNOWN_TYPE, f"unknown message type {request.type!r}; known: "
                                + ", ".join(["cancel", *d.registry.types()]))
        identity = self._identity
        if route.min_role is not None:
            if identity is None:
                return GatewayError(ErrorCode.UNAUTHENTICATED,
                                    f"{request.type} needs a login: send auth:login or connect with a token")
            if identity.expires_at is not None and identity.expires_at <= d.clock():
                return GatewayError(ErrorCode.TOKEN_EXPIRED, "your token has expired: send auth:login again")
            if identity.role < route.min_role:
                return GatewayError(ErrorCode.FORBIDDEN, f"{request.type} needs the {route.min_role.label} "
                                    f"role; {identity.user} is a {identity.role.label}")
        if route.unavailable is not None:
            return GatewayError(ErrorCode.UNAVAILABLE, route.unavailable)
        if rid in self._tasks:
            return GatewayError(ErrorCode.DUPLICATE_ID, f"request {rid!r} is still running; use a new id")
        if len(self._tasks) >= d.limits.max_concurrent:
            return GatewayError(ErrorCode.BUSY, f"{d.limits.max_concurrent} requests are already running on "
                                "this connection; wait for one to finish")
        if d.limiter is not None and route.rate_limited:
            key = identity.user if identity is not None else f"anonymous@{self._peer}"
            retry = d.limiter.acquire(key, request.type)
            if retry is not None:
                return GatewayError(ErrorCode.RATE_LIMITED,
                                    f"rate limit reached for {request.type}; retry in {retry:.1f} s",
                                    retryAfter=round(retry, 3))
        return None

    async def _run(self, request: Request, route: Route, started: float) -> None:
        outcome = "ok"
        try:
            sent = exhausted = False
            replies = route.handler(request, self)
            try:
                async for reply in replies:
                    await self._send(request.id, reply)
                    sent = True
                exhausted = True
            finally:
                # Close the generator now (cancel, error, disconnect) so the handler's `finally` blocks
                # stop its kernel or model stream at once, not whenever it is garbage collected.
                aclose = None if exhausted else getattr(replies, "aclose", None)
                if aclose is not None:
                    await aclose()
            if not sent:
                await self._send(request.id, Reply(request.type))
        except asyncio.CancelledError:
            outcome = "cancelled"
            reason = self._cancel_reasons.pop(request.id, None)
            if reason is not None and not self.closed:
                with contextlib.suppress(ConnectionGone):
                    await self._send_error(request.id, GatewayError(ErrorCode.CANCELLED, reason))
        except ConnectionGone:
            outcome = "disconnected"
        except Exception as exc:
            outcome = "error"
            err = as_gateway_error(exc, request.id)
            if err is None:
                log.exception("handler for %s failed (request %r)", request.type, request.id)
                err = GatewayError(ErrorCode.INTERNAL,
                                   f"{request.type} failed with an internal error (logged on the server)")
            with contextlib.suppress(ConnectionGone):
                await self._send_error(request.id, err)
        finally:
            self._tasks.pop(request.id, None)
            self._cancel_reasons.pop(request.id, None)
            self.last_active = self._loop.time()
            self._dispatcher.observe(route.type, outcome, time.perf_counter() - started)

    async def _cancel(self, request: Request) -> None:
        target = request.payload.get("id")
        if not valid_id(target):
            await self._send_error(request.id, request.invalid("payload.id must be the id of a request"))
            return
        cancelled = self.cancel(target, "cancelled by the client")
        await self._send(request.id, Reply("cancel", {"id": target, "cancelled": cancelled}))

    def cancel(self, request_id: RequestId, reason: str) -> bool:
        """Cancel one in-flight request; its client gets a ``cancelled`` error carrying ``reason``."""
        task = self._tasks.get(request_id)
        if task is None or task.done():
            return False
        self._cancel_reasons[request_id] = reason
        task.cancel()
        return True

    def cancel_all(self, reason: str) -> None:
        for request_id in list(self._tasks):
            self.cancel(request_id, reason)

    def tasks(self) -> list[asyncio.Task[None]]:
        return list(self._tasks.values())

    async def close(self) -> None:
        """The connection has ended: stop its requests (nothing more can be sent) and forget it."""
        self.closed = True
        self.outbox.fail()
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        self._dispatcher.forget(self)
        self.ended.set()

    def idle(self, now: float, timeout: float) -> bool:
        return not self._tasks and now - self.last_active > timeout

    async def _send(self, request_id: RequestId, reply: Reply) -> None:
        await self.outbox.send(encode_reply(request_id, reply))

    async def _send_error(self, request_id: RequestId | None, error: GatewayError) -> None:
        self._dispatcher.error_sent(error.code)
        await self.outbox.send(encode_error(request_id, error))


class Dispatcher:
    """What all connections of one server share."""

    def __init__(self, registry: Registry, *, limits: SessionLimits | None = None, limiter: Limiter | None = None,
                 observer: Observer | None = None, clock: Callable[[], float] = time.time) -> None:
        self.registry = registry
        self.limits = limits or SessionLimits()
        self.limiter = limiter
        self.observer = observer
        self.clock = clock  # wall clock, for token expiry
        self.sessions: set[Session] = set()
        self.draining = False
        # Called with (session, new identity) before a session takes an identity; raising GatewayError
        # refuses it. The websockets server uses it to move a socket from the anonymous cap to its user's.
        self.on_authenticate: Callable[[Session, Identity], None] | None = None

    def open(self, transport: Transport, *, identity: Identity | None = None, peer: str = "") -> Session:
        session = Session(self, transport, identity, peer)
        self.sessions.add(session)
        return session

    def forget(self, session: Session) -> None:
        self.sessions.discard(session)

    async def drain(self, grace: float) -> None:
        """Refuse new requests, let in-flight ones finish for up to ``grace`` seconds, then cancel the rest
        (their clients get ``cancelled``) and wait for them to send that."""
        self.draining = True
        tasks = [t for s in list(self.sessions) for t in s.tasks()]
        if tasks:
            log.info("shutdown: waiting up to %.1f s for %d request(s)", grace, len(tasks))
            _done, pending = await asyncio.wait(tasks, timeout=grace)
            if pending:
                log.info("shutdown: cancelling %d request(s)", len(pending))
                for session in list(self.sessions):
                    session.cancel_all("the gateway is shutting down")
                await asyncio.wait(pending, timeout=max(grace, 1.0))

    def sweep(self, now: float) -> None:
        """Close idle connections and disconnect clients that stopped reading (called periodically)."""
        limits = self.limits
        for session in list(self.sessions):
            if session.closed or session.outbox.closed:
                continue
            if session.outbox.stalled(now, limits.send_timeout):
                log.warning("disconnecting %s: it has not read its replies for %.0f s", session.peer,
                            limits.send_timeout)
                session.outbox.fail()
                session.transport.abort()
            elif session.idle(now, limits.idle_timeout):
                log.info("closing idle connection from %s", session.peer)
                session.transport.close(CLOSE_IDLE, "idle timeout")

    async def run_sweeper(self, interval: float) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval)
            self.sweep(loop.time())

    def observe(self, type_: str, outcome: str, seconds: float | None) -> None:
        if self.observer is not None:
            self.observer.request_finished(type_, outcome, seconds)

    def error_sent(self, code: str) -> None:
        if self.observer is not None:
            self.observer.error_sent(code)
