"""Limits on a real gateway: oversize frames, a client that stops reading, idle connections, shutdown."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedError

from nexus.gateway import Gateway, Reply, Request, Role
from nexus.gateway.protocol import Context

from .wsclient import client, error_code, token_for

Start = Callable[..., Any]
CHUNK = "x" * 65536


async def test_an_oversize_frame_closes_that_connection_with_1009(start: Start) -> None:
    async with start(max_message_bytes=4096) as gw, client(gw, "dave") as other, client(gw, "dave") as c:
        await c.ws.send(json.dumps({"type": "ping", "id": 1, "payload": {"pad": "y" * 5000}}))
        with pytest.raises(ConnectionClosedError):
            await c.ws.recv()
        assert c.ws.close_code == 1009
        assert (await other.request("ping"))["type"] == "pong"
        # Just under the limit is fine.
        assert (await other.request("ping", {"pad": "y" * 3900}))["type"] == "pong"


def _firehose(sessions: list[Any], started: asyncio.Event, finished: asyncio.Event) -> Callable[[Gateway], None]:
    """A test-only handler streaming 64 KiB chunks for as long as the client takes them."""

    async def firehose(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        sessions.append(ctx)
        started.set()
        try:
            while True:
                yield Reply("test:chunk", CHUNK)
        finally:
            finished.set()

    def setup(gw: Gateway) -> None:
        gw.dispatcher.registry.register("test:firehose", firehose, min_role=Role.VIEWER)

    return setup


async def test_a_client_that_stops_reading_is_bounded_then_dropped(start: Start) -> None:
    sessions: list[Any] = []
    started, finished = asyncio.Event(), asyncio.Event()
    window = 128 * 1024
    async with (start(setup=_firehose(sessions, started, finished), send_window_bytes=window, send_timeout=2.0) as gw,
                client(gw, "vera") as other,
                connect(f"{gw.url}?token={token_for(gw, 'vera')}", max_size=None, max_queue=1) as stalled):
        for i in range(4):  # ... and never reads again
            await stalled.send(json.dumps({"type": "test:firehose", "id": i}))
        await asyncio.wait_for(started.wait(), 10)
        session = sessions[0]
        # Four producers of 64 KiB frames overflow the 128 KiB window once the transport pushes back.
        await asyncio.wait_for(session.outbox.blocked.wait(), 20)
        # While that connection is stuck, others are served.
        for _ in range(20):
            assert (await other.request("ping"))["type"] == "pong"
            assert (await other.request("files:read", {"path": "src/app.py"}))["type"] == "files:read"
        # What the server holds for it is bounded by the window, not by what the handler produced.
        ws_transport = session.transport.ws.transport
        frame = len(CHUNK) + 64
        assert session.outbox.peak_bytes <= window + frame
        assert ws_transport.get_write_buffer_size() <= 32 * 1024 + window + frame
        # After send_timeout with no progress the sweeper drops it, which stops its handler.
        await asyncio.wait_for(session.ended.wait(), 20)
        assert finished.is_set() and session not in gw.dispatcher.sessions
        with pytest.raises(ConnectionClosed):
            for _ in range(10_000):  # drain whatever had reached the client's buffers
                await asyncio.wait_for(stalled.recv(), 20)
        assert (await other.request("ping"))["type"] == "pong"


async def test_idle_connections_are_closed(start: Start) -> None:
    async with start(idle_timeout=0.3) as gw, client(gw, "dave") as c:
        assert (await c.request("ping"))["type"] == "pong"
        await asyncio.wait_for(c.ws.wait_closed(), 10)
        assert (c.ws.close_code, c.ws.close_reason) == (1000, "idle timeout")


def _gated(release: asyncio.Event, started: asyncio.Event) -> Callable[[Gateway], None]:
    async def gated(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        started.set()
        await release.wait()
        yield Reply("test:done", {"id": request.id})

    def setup(gw: Gateway) -> None:
        gw.dispatcher.registry.register("test:gated", gated, min_role=Role.VIEWER)

    return setup


async def test_shutdown_lets_running_requests_finish_then_closes_with_1001(start: Start) -> None:
    release, started = asyncio.Event(), asyncio.Event()
    async with start(setup=_gated(release, started)) as gw, client(gw, "dave") as c:
        gated_id = await c.send("test:gated")
        await asyncio.wait_for(started.wait(), 5)
        stopping = asyncio.create_task(gw.stop(grace=30))
        await asyncio.sleep(0)  # stop() sets draining at its first step
        assert gw.dispatcher.draining
        assert error_code(await c.request("ping")) == "shutting_down"
        with pytest.raises(OSError):  # no longer listening
            async with connect(f"{gw.url}?token={token_for(gw, 'dave')}", open_timeout=5):
                pass
        release.set()
        assert await c.recv() == {"type": "test:done", "id": gated_id, "data": {"id": gated_id}}
        await asyncio.wait_for(stopping, 10)
        await asyncio.wait_for(c.ws.wait_closed(), 10)
        assert c.ws.close_code == 1001


async def test_shutdown_cancels_what_does_not_finish_in_the_grace_period(start: Start) -> None:
    release, started = asyncio.Event(), asyncio.Event()
    async with start(setup=_gated(release, started)) as gw, client(gw, "dave") as c:
        gated_id = await c.send("test:gated")
        await asyncio.wait_for(started.wait(), 5)
        await asyncio.wait_for(gw.stop(grace=0.1), 10)
        assert await c.recv() == {"type": "error", "id": gated_id,
                                  "data": {"code": "cancelled", "message": "the gateway is shutting down"}}
        await asyncio.wait_for(c.ws.wait_closed(), 10)
        assert c.ws.close_code == 1001
        assert gw.metrics.requests.get("test:gated", "cancelled") == 1


async def test_too_many_requests_in_flight_get_busy(start: Start) -> None:
    release, started = asyncio.Event(), asyncio.Event()
    async with start(setup=_gated(release, started), max_concurrent=2) as gw, client(gw, "dave") as c:
        first, second = await c.send("test:gated"), await c.send("test:gated")
        busy = await c.request("test:gated")
        assert error_code(busy) == "busy"
        release.set()
        assert {(await c.recv())["id"], (await c.recv())["id"]} == {first, second}


async def test_a_pipelining_client_gets_every_answer_and_others_are_served(start: Start) -> None:
    async with start(rate_limit="off") as gw, client(gw, "dave") as flood, client(gw, "vera") as other:
        burst = [json.dumps({"type": "ping", "id": i}) for i in range(2000)]
        for frame in burst:  # written without waiting for any reply
            await flood.ws.send(frame)
        for _ in range(20):
            assert (await other.request("ping"))["type"] == "pong"
        answered: dict[int, str] = {}
        while len(answered) < len(burst):
            reply = await asyncio.wait_for(flood.recv(), 20)
            answered[reply["id"]] = reply["type"] if reply["type"] == "pong" else reply["data"]["code"]
        assert set(answered) == set(range(2000))
        assert set(answered.values()) <= {"pong", "busy"}
