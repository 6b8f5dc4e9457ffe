"""Malformed messages from one client (hypothesis) while another client keeps being served.

The gateway runs in its own thread and event loop, so the hypothesis test drives it with the real
synchronous ``websockets`` client, and a second thread keeps doing ping round trips throughout.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import ClientConnection, connect

from nexus.gateway import Gateway, GatewaySettings
from nexus.gateway.protocol import ErrorCode

from .wsclient import create, token_for

CODES = {str(c) for c in ErrorCode}
REPLY_TYPES = {"error", "pong", "cancel", "auth:login", "auth:refresh", "files:read"}


@dataclasses.dataclass
class Running:
    gateway: Gateway
    loop: asyncio.AbstractEventLoop


@pytest.fixture
def threaded_gateway(settings: GatewaySettings, workspace: Path) -> Iterator[Running]:
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        gw = create(dataclasses.replace(settings, rate_limit="off"), workspace)
        await gw.start()
        stop = asyncio.Event()
        box.update(running=Running(gw, asyncio.get_running_loop()), stop=stop)
        ready.set()
        await stop.wait()
        await gw.stop(grace=0)

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="gateway")
    thread.start()
    assert ready.wait(10), "the gateway did not start"
    running: Running = box["running"]
    try:
        yield running
    finally:
        running.loop.call_soon_threadsafe(box["stop"].set)
        thread.join(10)


class Pinger(threading.Thread):
    """Ping round trips on its own connection until stopped, recording any failure."""

    def __init__(self, url: str) -> None:
        super().__init__(name="pinger")
        self.url = url
        self.done = 0
        self.failures: list[str] = []
        self.halt = threading.Event()

    def run(self) -> None:
        try:
            with connect(self.url) as ws:
                while not self.halt.is_set():
                    ws.send(json.dumps({"type": "ping", "id": self.done}))
                    reply = json.loads(ws.recv(timeout=10))
                    if reply != {"type": "pong", "id": self.done, "data": {}}:
                        self.failures.append(repr(reply))
                    self.done += 1
        except Exception as exc:
            self.failures.append(repr(exc))


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=20)
TYPES = st.sampled_from(["ping", "files:read", "auth:login", "auth:refresh", "cancel", "ide:execute", "ai:chat",
                         "context:stream", "nope:nope", "error", ""]) | st.text(max_size=40)
IDS = st.one_of(st.text(max_size=200), st.integers(), st.none(), st.booleans(), st.floats(), st.lists(st.integers()))
ENVELOPES = st.fixed_dictionaries({"type": TYPES, "id": IDS}, optional={"payload": JSON}) | st.fixed_dictionaries(
    {"type": TYPES}, optional={"id": IDS, "payload": JSON, "data": JSON})
FRAMES = (st.text(max_size=300).map(lambda t: ("text", t))
          | st.binary(max_size=300).map(lambda b: ("binary", b))
          | JSON.map(lambda v: ("text", json.dumps(v)))
          | ENVELOPES.map(lambda v: ("text", json.dumps(v))))


def _exchange(ws: ClientConnection, kind: str, frame: str | bytes) -> dict[str, Any]:
    ws.send(frame)
    reply = json.loads(ws.recv(timeout=10))
    assert isinstance(reply, dict) and reply["type"] in REPLY_TYPES, reply
    if reply["type"] == "error":
        assert reply["data"]["code"] in CODES and isinstance(reply["data"]["message"], str), reply
    return reply


def test_malformed_messages_get_errors_and_never_disturb_other_clients(threaded_gateway: Running) -> None:
    gw = threaded_gateway.gateway
    pinger = Pinger(f"{gw.url}?token={token_for(gw, 'vera')}")
    pinger.start()
    try:
        with connect(f"{gw.url}?token={token_for(gw, 'dave')}", max_size=None) as ws:

            @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            @given(FRAMES)
            @example(("text", "[" * 100_000))
            @example(("text", '{"type": "ping", "id": 1' + "0" * 5000 + "}"))
            @example(("text", '{"type": "ping", "id": 1, "payload": {"x": NaN}}'))
            @example(("text", '{"type": "cancel", "id": 1, "payload": {"id": NaN}}'))
            @example(("text", '{"type": "cancel", "id": 1, "payload": {"id": [1, {"a": Infinity}]}}'))
            @example(("binary", b"\xff\xfe"))
            def one(case: tuple[str, str | bytes]) -> None:
                kind, frame = case
                reply = _exchange(ws, kind, frame)
                if kind == "binary" or not isinstance(frame, str) or not frame.startswith("{"):
                    assert reply["type"] == "error" and reply["id"] is None

            one()
            assert _exchange(ws, "text", '{"type": "ping", "id": "after"}') == {"type": "pong", "id": "after",
                                                                                  "data": {}}
    finally:
        pinger.halt.set()
        pinger.join(10)
    assert pinger.failures == []
    assert pinger.done > 0


def test_invalid_utf8_in_a_text_frame_closes_only_that_connection(threaded_gateway: Running) -> None:
    gw = threaded_gateway.gateway
    with connect(f"{gw.url}?token={token_for(gw, 'vera')}") as other:
        with connect(f"{gw.url}?token={token_for(gw, 'dave')}") as ws:
            ws.send(b"\xff\xfe not utf-8", text=True)
            with pytest.raises(ConnectionClosedError):
                ws.recv(timeout=10)
            assert ws.close_code == 1007
        other.send('{"type": "ping", "id": 1}')
        assert json.loads(other.recv(timeout=10))["type"] == "pong"
