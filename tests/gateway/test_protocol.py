"""The transport-agnostic protocol: parsing, the registry, and the dispatcher driven through a small
in-memory transport (the seam the websockets and tornado adapters implement)."""

from __future__ import annotations

import ast
import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from nexus.engine.errors import NotFoundError, WorkspaceError
from nexus.gateway.protocol import (
    ConnectionGone,
    Context,
    Dispatcher,
    ErrorCode,
    GatewayError,
    Identity,
    Registry,
    Reply,
    Request,
    Role,
    SessionLimits,
    parse_request,
)

PROTOCOL_DIR = Path(__file__).resolve().parents[2] / "services" / "wire"


class MemoryTransport:
    """Collects sent frames; ``block`` makes sends wait like a peer that stopped reading."""

    def __init__(self) -> None:
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.open = asyncio.Event()
        self.open.set()
        self.closed: tuple[int, str] | None = None

    async def send(self, data: bytes) -> None:
        await self.open.wait()
        if self.closed is not None:
            raise ConnectionGone("closed")
        self.frames.put_nowait(json.loads(data))

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)
        self.open.set()

    def abort(self) -> None:
        self.close(1006, "aborted")

    async def next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.frames.get(), 5)


DEV = Identity("dave", Role.DEVELOPER)


async def echo(request: Request, ctx: Context) -> AsyncIterator[Reply]:
    yield Reply("test:echo", {"payload": dict(request.payload), "user": ctx.identity.user if ctx.identity else None})


def make(registry: Registry | None = None, **limits: Any) -> tuple[Dispatcher, Registry]:
    registry = registry or Registry()
    if "test:echo" not in registry:
        registry.register("test:echo", echo)
    return Dispatcher(registry, limits=SessionLimits(**limits)), registry


def test_the_protocol_package_imports_no_websocket_library() -> None:
    for path in PROTOCOL_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] in {"websockets", "tornado", "jupyter_server"} for n in names), path


@pytest.mark.parametrize(("raw", "fragment"), [
    ("", "not JSON"), ("{", "not JSON"), ("[1]", "JSON object"), ('"x"', "JSON object"),
    ('{"type": "ping"}', "id must be"), ('{"type": "ping", "id": true}', "id must be"),
    ('{"type": "ping", "id": ""}', "id must be"), ('{"type": "ping", "id": 1.5}', "id must be"),
    ('{"type": "ping", "id": "' + "x" * 129 + '"}', "id must be"), ('{"type": "ping", "id": 9007199254740993}', "id"),
    ('{"type": 3, "id": 1}', "type must be"), ('{"type": "Ping!", "id": 1}', "type must be"),
    ('{"type": "ping", "id": 1, "payload": []}', "payload must be"), ("[" * 100_000, "not JSON"), ('{"type": "ping", "id": 1, "payload": {"x": NaN}}', "not JSON"),
    ('{"type": "ping", "id": 1' + "0" * 5000 + "}", "not JSON"),
])
def test_malformed_frames_are_refused_with_a_reason(raw: str, fragment: str) -> None:
    with pytest.raises(GatewayError) as err:
        parse_request(raw)
    assert err.value.code is ErrorCode.BAD_REQUEST
    assert fragment in err.value.message


def test_binary_frames_are_refused() -> None:
    with pytest.raises(GatewayError, match="binary frames"):
        parse_request(b'{"type": "ping", "id": 1}')


def test_a_valid_request_parses_with_an_empty_payload_by_default() -> None:
    assert parse_request('{"type": "files:read", "id": "a"}') == Request("files:read", "a", {})
    request = parse_request('{"type": "files:read", "id": 7, "payload": {"path": "x", "n": 3}}')
    assert (request.text("path"), request.integer("n", maximum=5)) == ("x", 3)
    with pytest.raises(GatewayError, match=r"payload.n must be between"):
        request.integer("n", maximum=2)
    with pytest.raises(GatewayError, match=r"payload.missing is required"):
        request.text("missing")


def test_registry_refuses_bad_reserved_and_duplicate_types() -> None:
    registry = Registry()
    registry.register("a:b", echo)
    for bad in ("Bad", "cancel", "error", "a:b"):
        with pytest.raises(ValueError):
            registry.register(bad, echo)
    registry.register("a:b", echo, replace=True)
    assert registry.types() == ["a:b"]


async def test_admission_checks_identity_role_and_availability() -> None:
    registry = Registry()
    registry.register("test:admin", echo, min_role=Role.ADMIN)
    registry.register_unavailable("test:later", "the later feature", min_role=Role.DEVELOPER)
    dispatcher, _ = make(registry)
    transport = MemoryTransport()
    anonymous = dispatcher.open(transport, peer="10.0.0.1")
    await anonymous.receive('{"type": "test:echo", "id": 1}')
    assert (await transport.next())["data"]["code"] == "unauthenticated"

    dev = dispatcher.open(transport, identity=DEV)
    for raw, code in [('{"type": "test:admin", "id": 2}', "forbidden"), ('{"type": "nope", "id": 3}', "unknown_type"),
                      ('{"type": "test:later", "id": 4}', "unavailable")]:
        await dev.receive(raw)
        reply = await transport.next()
        assert reply["type"] == "error" and reply["data"]["code"] == code, reply
    assert "the later feature" in reply["data"]["message"]

    expired = dispatcher.open(transport, identity=Identity("dave", Role.DEVELOPER, expires_at=1.0))
    await expired.receive('{"type": "test:echo", "id": 5}')
    assert (await transport.next())["data"]["code"] == "token_expired"

    await dev.receive('{"type": "test:echo", "id": 6, "payload": {"k": "v"}}')
    assert await transport.next() == {"type": "test:echo", "id": 6, "data": {"payload": {"k": "v"}, "user": "dave"}}


async def test_streaming_replies_arrive_in_order_and_errors_are_mapped(caplog: pytest.LogCaptureFixture) -> None:
    async def stream(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        for i in range(3):
            yield Reply("test:chunk", i)
        yield Reply("test:end", {"n": 3})

    async def missing(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        raise NotFoundError("no such thing")
        yield Reply("never")

    async def outside(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        raise WorkspaceError("../x is outside the workspace")
        yield Reply("never")

    async def buggy(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        raise KeyError("secret detail")
        yield Reply("never")

    registry = Registry()
    for name, handler in [("t:stream", stream), ("t:missing", missing), ("t:outside", outside), ("t:buggy", buggy)]:
        registry.register(name, handler)
    dispatcher, _ = make(registry)
    transport = MemoryTransport()
    session = dispatcher.open(transport, identity=DEV)
    await session.receive('{"type": "t:stream", "id": "s"}')
    assert [await transport.next() for _ in range(4)] == [
        {"type": "test:chunk", "id": "s", "data": 0}, {"type": "test:chunk", "id": "s", "data": 1},
        {"type": "test:chunk", "id": "s", "data": 2}, {"type": "test:end", "id": "s", "data": {"n": 3}}]
    with caplog.at_level(logging.ERROR, logger="nexus.services.wire.session"):
        for kind, code in [("t:missing", "not_found"), ("t:outside", "invalid_path"), ("t:buggy", "internal")]:
            await session.receive(json.dumps({"type": kind, "id": kind}))
            reply = await transport.next()
            assert (reply["id"], reply["data"]["code"]) == (kind, code)
    assert "secret detail" not in reply["data"]["message"]
    assert "t:buggy" in caplog.text and "KeyError" in caplog.text


async def test_cancel_duplicate_ids_and_the_concurrency_limit() -> None:
    started, finished = asyncio.Event(), asyncio.Event()

    async def forever(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        try:
            yield Reply("t:started")
            started.set()
            await asyncio.Event().wait()
        finally:
            finished.set()

    registry = Registry()
    registry.register("t:forever", forever)
    dispatcher, _ = make(registry, max_concurrent=2)
    transport = MemoryTransport()
    session = dispatcher.open(transport, identity=DEV)
    await session.receive('{"type": "t:forever", "id": 1}')
    await session.receive('{"type": "t:forever", "id": 1}')
    replies = [await transport.next(), await transport.next()]
    assert {r["type"] for r in replies} == {"t:started", "error"}
    assert next(r for r in replies if r["type"] == "error")["data"]["code"] == "duplicate_id"
    await session.receive('{"type": "t:forever", "id": 2}')
    await session.receive('{"type": "t:forever", "id": 3}')
    replies = [await transport.next(), await transport.next()]
    assert sorted((r["id"], r["type"]) for r in replies) == [(2, "t:started"), (3, "error")]
    assert session.in_flight == 2

    await session.receive('{"type": "cancel", "id": "c", "payload": {"id": 1}}')
    replies = [await transport.next(), await transport.next()]
    by_id = {r["id"]: r for r in replies}
    assert by_id["c"] == {"type": "cancel", "id": "c", "data": {"id": 1, "cancelled": True}}
    assert by_id[1]["data"]["code"] == "cancelled"
    await asyncio.wait_for(finished.wait(), 5)
    await session.receive('{"type": "cancel", "id": "c2", "payload": {"id": 99}}')
    assert (await transport.next())["data"] == {"id": 99, "cancelled": False}

    await session.close()  # the connection ended: request 2 is stopped without a reply
    assert session.in_flight == 0 and session not in dispatcher.sessions
    assert transport.frames.empty()


async def test_the_outbox_bounds_pending_bytes_and_reports_a_stalled_reader() -> None:
    async def big(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        for _ in range(50):
            yield Reply("t:big", "x" * 1000)

    registry = Registry()
    registry.register("t:big", big)
    dispatcher, _ = make(registry, send_window_bytes=4096, max_concurrent=4, send_timeout=5.0)
    transport = MemoryTransport()
    transport.open.clear()  # the peer reads nothing
    session = dispatcher.open(transport, identity=DEV)
    for i in range(4):
        await session.receive(json.dumps({"type": "t:big", "id": i}))
    await asyncio.wait_for(session.outbox.blocked.wait(), 5)
    assert session.outbox.peak_bytes <= 4096 + 1100
    loop = asyncio.get_running_loop()
    assert not session.outbox.stalled(loop.time(), 5.0)
    assert session.outbox.stalled(loop.time() + 6.0, 5.0)
    dispatcher.sweep(loop.time() + 6.0)
    assert transport.closed == (1006, "aborted")
    await session.close()
    assert session.in_flight == 0


async def test_drain_lets_short_requests_finish_and_cancels_the_rest() -> None:
    release = asyncio.Event()

    async def short(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        await release.wait()
        yield Reply("t:done")

    async def forever(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        await asyncio.Event().wait()
        yield Reply("never")

    registry = Registry()
    registry.register("t:short", short)
    registry.register("t:forever", forever)
    dispatcher, _ = make(registry)
    transport = MemoryTransport()
    session = dispatcher.open(transport, identity=DEV)
    await session.receive('{"type": "t:short", "id": "a"}')
    await session.receive('{"type": "t:forever", "id": "b"}')
    drain = asyncio.create_task(dispatcher.drain(grace=0.2))
    await asyncio.sleep(0)
    await session.receive('{"type": "t:short", "id": "late"}')
    assert (await transport.next())["data"]["code"] == "shutting_down"
    release.set()
    await drain
    replies = {r["id"]: r for r in [await transport.next(), await transport.next()]}
    assert replies["a"]["type"] == "t:done"
    assert replies["b"]["data"] == {"code": "cancelled", "message": "the gateway is shutting down"}


async def test_idle_sessions_are_closed_by_the_sweeper() -> None:
    dispatcher, _ = make(idle_timeout=10.0)
    transport = MemoryTransport()
    session = dispatcher.open(transport, identity=DEV)
    loop = asyncio.get_running_loop()
    dispatcher.sweep(loop.time() + 5.0)
    assert transport.closed is None
    dispatcher.sweep(loop.time() + 11.0)
    assert transport.closed == (1000, "idle timeout")
    await session.close()
