"""Bad input and load: malformed messages, floods, huge pastes, clients vanishing mid-sync, and two
clients typing on one line at once. No crash; only the offender is closed or slowed; the rest converge."""

from __future__ import annotations

import asyncio
import dataclasses

import pycrdt
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from nexus.services.collab import RoomError
from nexus.services.collab.protocol import STEP1, UPDATE, payload, sync_message

from .conftest import url_for

pytestmark = pytest.mark.timeout(90)

MALFORMED = [
    (b"", 1007),                                   # nothing at all
    (b"\x00", 1007),                               # sync without a step
    (b"\x00\x07\x00", 1007),                       # unknown sync step
    (b"\x00\x02\x05ab", 1007),                     # payload shorter than its length
    (b"\x00\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 1007),  # a length of more than 64 bits
    (sync_message(UPDATE, b"\x01\x02\x03\x04"), 1007),             # an update pycrdt cannot decode
    (sync_message(STEP1, b"\xff\xff"), 1007),                      # a state vector that does not decode
    (sync_message(UPDATE, b"\x00\x00") + b"\x00", 1007),           # trailing bytes
    (b"\x01" + payload(b"\x01\x05\x01" + payload(b"{not json")), 1007),  # awareness state not JSON
    (b"\x01" + payload(b"\x01\x05\x01" + payload(b"[1,2]")), 1007),      # awareness state not an object
    (b"\x02\x00", 1007),                            # y-websocket auth message
    (b"\x09", 1007),                                # unknown message type
    ("a text frame", 1003),
]


async def test_malformed_messages_close_only_their_sender(start, join) -> None:
    async with start() as gw, join(gw, "m") as a, join(gw, "m") as b:
        for i, (message, code) in enumerate(MALFORMED):
            async with connect(url_for(gw, "m")) as ws:
                await ws.send(message)
                with pytest.raises(ConnectionClosed):
                    while True:
                        await asyncio.wait_for(ws.recv(), 10)
                assert ws.close_code == code, (message, ws.close_code, ws.close_reason)
            a.insert(len(a.source), str(i))
            await a.wait_acked()
        await b.wait_for(lambda c: c.source == "".join(str(i) for i in range(len(MALFORMED))))


async def test_an_update_with_missing_dependencies_waits_and_breaks_nothing(start, join) -> None:
    """An update built on items the room never saw (from some other room) is kept pending, not a crash."""
    other: pycrdt.Doc[object] = pycrdt.Doc()
    text = other.get("source", type=pycrdt.Text)
    text += "base"
    base = other.get_state()
    text += " more"
    dependent = other.get_update(base)
    async with start() as gw, join(gw, "pending") as a, join(gw, "pending") as b:
        async with connect(url_for(gw, "pending")) as ws:
            await ws.send(sync_message(UPDATE, dependent))
            a.insert(0, "ok")
            await a.wait_acked()
        await b.wait_for(lambda c: c.source == "ok")


async def test_bad_room_names_and_unknown_rooms(start) -> None:
    async with start() as gw:
        for name in ["%00", "a%07b", "x" * 400]:
            with pytest.raises(InvalidStatus) as refused:
                async with connect(url_for(gw, "n").replace("/ws/collab/n?", f"/ws/collab/{name}?")):
                    pass
            assert refused.value.response.status_code == 400
        with pytest.raises(RoomError, match="not bound to a workspace file"):
            await gw.collab.rooms.save("never-opened")  # type: ignore[union-attr]


async def test_a_flooding_client_is_paced_while_the_others_edits_arrive(start, join) -> None:
    async with start() as gw:
        rooms = gw.collab.rooms  # type: ignore[union-attr]
        rooms.settings = dataclasses.replace(rooms.settings, rate=100.0, burst=20)
        async with join(gw, "flood") as flooder, join(gw, "flood") as typist, join(gw, "flood") as watcher:
            for _ in range(400):
                flooder.insert(0, "f")
            await asyncio.sleep(0)
            typist.insert(0, "T")
            await typist.wait_acked()
            await watcher.wait_for(lambda c: "T" in c.source)
            assert flooder.acked < 400, "the flood was not paced"
            await flooder.wait_acked(timeout=60)
            assert gw.collab.throttled > 0  # type: ignore[union-attr]
            await watcher.wait_for(lambda c: c.source.count("f") == 400 and "T" in c.source, timeout=30)
            await typist.wait_for(lambda c: c.source == watcher.source)


async def test_a_huge_paste_arrives_and_a_frame_over_the_limit_is_refused(start, join) -> None:
    big = "x = 1  # a long pasted line\n" * 110_000  # about 3 MB
    async with start() as gw, join(gw, "paste") as a, join(gw, "paste") as b:
        a.insert(0, big)
        await a.wait_acked(timeout=30)
        await b.wait_for(lambda c: len(c.source) == len(big), timeout=30)
        ws = await connect(url_for(gw, "paste"), max_size=None)
        await ws.send(sync_message(UPDATE, b"\x00" * (5 * 1024 * 1024)))
        with pytest.raises(ConnectionClosed):
            while True:
                await asyncio.wait_for(ws.recv(), 10)
        assert ws.close_code == 1009
        b.insert(0, "#")
        await a.wait_for(lambda c: c.source.startswith("#x = 1"), timeout=30)
    async with start() as gw, join(gw, "paste") as again:
        assert len(again.source) == len(big) + 1


async def test_clients_that_vanish_mid_sync_leave_the_room_working(start, join) -> None:
    async with start() as gw, join(gw, "vanish") as a:
        a.insert(0, "text " * 1000)
        await a.wait_acked()
        for _ in range(20):
            ws = await connect(url_for(gw, "vanish"))
            await ws.send(sync_message(STEP1, b"\x00"))
            ws.transport.abort()  # gone before the room's reply, without a close frame
        for _ in range(5):
            async with connect(url_for(gw, "vanish")) as ws:
                await ws.send(sync_message(STEP1, b"\x00"))
                await ws.recv()  # the room's own step 1, then close in the middle of the exchange
        a.insert(0, "still ")
        await a.wait_acked()
        async with join(gw, "vanish") as b:
            assert b.source.startswith("still text")
        await asyncio.sleep(0)
        room = gw.collab.rooms.open_rooms["vanish"]  # type: ignore[union-attr]
        await a.wait_for(lambda c: len(room.members) == 1)


async def test_two_clients_typing_on_the_same_line_converge(start, join) -> None:
    async with start() as gw, join(gw, "line") as a, join(gw, "line") as b:
        a.insert(0, "value = \n")
        await a.wait_acked()
        await b.wait_for(lambda c: c.source == "value = \n")
        for i in range(50):
            a.insert(8, "a")
            b.insert(8, "b")
            if i % 10 == 0:
                await asyncio.sleep(0)
        await a.wait_acked()
        await b.wait_acked()
        await a.wait_for(lambda c: c.source.count("b") == 50)
        await b.wait_for(lambda c: c.source.count("a") == 51)
        assert a.source == b.source and a.source.startswith("value = ") and a.source.endswith("\n")
