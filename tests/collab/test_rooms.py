"""Rooms on a real gateway with real pycrdt clients: sync, presence, roles, save, journal and resume."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pycrdt
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from nexus.cli.collab_client import CollabClient
from nexus.services.collab import SaveConflict

from .conftest import url_for

pytestmark = pytest.mark.timeout(60)


async def test_two_clients_converge_and_edits_are_acknowledged(start, join) -> None:
    async with start() as gw, join(gw, "notes") as a, join(gw, "notes") as b:
        a.insert(0, "hello")
        await a.wait_acked()
        await b.wait_for(lambda c: c.source == "hello")
        b.insert(5, " wörld 😀")
        a.insert(0, ">> ")
        await a.wait_acked()
        await b.wait_acked()
        await a.wait_for(lambda c: c.source == b.source and "😀" in c.source)
        await b.wait_for(lambda c: c.source == a.source and c.source.startswith(">> "))
        assert a.source == ">> hello wörld 😀"


async def test_a_room_named_after_a_file_starts_with_its_text(start, join, workspace: Path) -> None:
    async with start() as gw, join(gw, "src/app.py") as a:
        assert a.source == "print('héllo')\n"


async def test_the_standard_pycrdt_provider_joins_the_same_room(start, join) -> None:
    """pycrdt's own Provider (no ack, ignores awareness) is a plain y-websocket client."""

    class Channel:
        def __init__(self, ws) -> None:
            self.ws = ws

        @property
        def path(self) -> str:
            return "room"

        def __aiter__(self):
            return self

        async def __anext__(self) -> bytes:
            try:
                return bytes(await self.ws.recv())
            except Exception as exc:
                raise StopAsyncIteration from exc

        async def send(self, message: bytes) -> None:
            await self.ws.send(message)

        async def recv(self) -> bytes:
            return bytes(await self.ws.recv())

    async with start() as gw, join(gw, "shared") as a:
        a.insert(0, "from nexus")
        await a.wait_acked()
        doc = pycrdt.Doc()
        text = doc.get("source", type=pycrdt.Text)
        async with connect(url_for(gw, "shared", ack=False)) as ws, pycrdt.Provider(doc, Channel(ws)):
            for _ in range(200):
                if str(text) == "from nexus":
                    break
                await asyncio.sleep(0.02)
            assert str(text) == "from nexus"
            text += "; from pycrdt"
            await a.wait_for(lambda c: c.source == "from nexus; from pycrdt")


async def test_presence_is_shared_with_the_authenticated_name(start, join) -> None:
    async with start() as gw, join(gw, "p", "dave") as a, join(gw, "p", "vera") as v:
        a.set_presence({"user": {"name": "mallory", "color": "#f00"}, "cursor": {"anchor": 1, "head": 3}})
        await v.wait_for(lambda c: any(s.get("cursor") for s in c.peers.values()))
        (state,) = v.peers.values()
        assert state["user"]["name"] == "dave" and state["user"]["color"] == "#f00"
        v.set_presence({"cursor": {"anchor": 0, "head": 0}})
        await a.wait_for(lambda c: any(s["user"]["name"] == "vera" for s in c.peers.values()))
        assert [s["user"]["readOnly"] for s in a.peers.values()] == [True]
        await v.close()
        await a.wait_for(lambda c: not c.peers)


async def test_a_viewer_watches_but_cannot_edit(start, join) -> None:
    async with start() as gw, join(gw, "ro", "dave") as a, join(gw, "ro", "vera") as v:
        a.insert(0, "by dave")
        await v.wait_for(lambda c: c.source == "by dave")
        v.insert(0, "by vera ")
        await v.closed.wait()
        assert v.close_code == 1008 and "viewer" in v.close_reason
        a.insert(0, "still ")
        await a.wait_acked()
        assert a.source == "still by dave"


async def test_no_token_or_a_bad_room_is_refused_at_the_handshake(start) -> None:
    async with start() as gw:
        base = gw.url.rsplit("/ws/", 1)[0]
        with pytest.raises(InvalidStatus) as no_token:
            async with connect(f"{base}/ws/collab/notes"):
                pass
        assert no_token.value.response.status_code == 401
        with pytest.raises(InvalidStatus) as forged:
            async with connect(f"{base}/ws/collab/notes?token=not.a.token"):
                pass
        assert forged.value.response.status_code == 401
        with pytest.raises(InvalidStatus) as empty:
            async with connect(url_for(gw, "").replace("/ws/collab/?", "/ws/collab/?")):
                pass
        assert empty.value.response.status_code == 400


async def test_the_room_resumes_from_the_journal_after_a_restart(start, join) -> None:
    async with start() as gw, join(gw, "journal") as a:
        for i in range(30):
            a.insert(len(a.source), f"line {i}\n")
        await a.wait_acked()
        expected = a.source
    async with start() as gw, join(gw, "journal") as b:
        assert b.source == expected


async def test_compaction_keeps_the_text(start, join) -> None:
    async with start() as gw:
        rooms = gw.collab.rooms  # type: ignore[union-attr]
        rooms.settings = dataclasses.replace(rooms.settings, compact_every=10)
        async with join(gw, "compact") as a:
            for i in range(55):
                a.insert(0, str(i % 10))
                await a.wait_acked()
            room = rooms.open_rooms["compact"]
            assert room.snapshot_seq >= 50
            stored = rooms.journal.load("compact")
            assert len(stored.updates) < 10
            expected = a.source
    async with start() as gw, join(gw, "compact") as b:
        assert b.source == expected


async def test_save_writes_the_file_and_refuses_to_overwrite_disk_changes(start, join, workspace: Path) -> None:
    path = workspace / "src" / "app.py"
    async with start() as gw, join(gw, "src/app.py") as a:
        rooms = gw.collab.rooms  # type: ignore[union-attr]
        a.insert(0, "# shared\n")
        await a.wait_acked()
        saved = await rooms.save("src/app.py")
        assert path.read_text() == "# shared\nprint('héllo')\n" and not saved.overwrote_changes
        path.write_text("changed outside\n")
        a.insert(0, "#")
        await a.wait_acked()
        with pytest.raises(SaveConflict, match="changed on disk"):
            await rooms.save("src/app.py")
        assert path.read_text() == "changed outside\n"
        forced = await rooms.save("src/app.py", force=True)
        assert forced.overwrote_changes and path.read_text() == "## shared\nprint('héllo')\n"


async def test_an_unknown_client_message_closes_only_that_client(start, join) -> None:
    async with start() as gw, join(gw, "bad") as a:
        async with connect(url_for(gw, "bad")) as ws:
            await ws.send(b"\x07\x01\x02")
            await ws.wait_closed()
            assert ws.close_code == 1007
        a.insert(0, "fine")
        await a.wait_acked()
        b = CollabClient(url_for(gw, "bad"))
        await b.connect()
        assert b.source == "fine"
        await b.close()


async def test_rooms_and_save_over_the_gateway_protocol(start, join, workspace: Path) -> None:
    """The operations a client sends as JSON: who is where, and save (conflict code, viewer refused)."""
    from tests.gateway.wsclient import client

    async with start() as gw, join(gw, "src/app.py") as a:
        a.set_presence({"cursor": {"anchor": 0, "head": 0}})
        a.insert(0, "# live\n")
        await a.wait_acked()
        async with client(gw, "dave") as dave, client(gw, "vera") as vera:
            await dave.send("collab:rooms", {})
            listed = await dave.recv()
            (room,) = listed["data"]["rooms"]
            assert room["room"] == "src/app.py" and room["clients"] == 1 and room["path"] == "src/app.py"
            await vera.send("collab:save", {"room": "src/app.py"})
            assert (await vera.recv())["data"]["code"] == "forbidden"
            (workspace / "src" / "app.py").write_text("edited on disk\n")
            await dave.send("collab:save", {"room": "src/app.py"})
            conflict = await dave.recv()
            assert conflict["data"]["code"] == "conflict" and "changed on disk" in conflict["data"]["message"]
            await dave.send("collab:save", {"room": "src/app.py", "force": True})
            saved = await dave.recv()
            assert saved["data"]["overwroteChanges"] is True
            assert (workspace / "src" / "app.py").read_text() == "# live\nprint('héllo')\n"


async def test_an_empty_room_is_unloaded_compacted_and_reopened(start, join) -> None:
    async with start() as gw:
        rooms = gw.collab.rooms  # type: ignore[union-attr]
        rooms.settings = dataclasses.replace(rooms.settings, unload_after=0.05)
        async with join(gw, "idle") as a:
            a.insert(0, "kept")
            await a.wait_acked()
        for _ in range(200):
            if "idle" not in rooms.open_rooms:
                break
            await asyncio.sleep(0.02)
        assert "idle" not in rooms.open_rooms
        stored = rooms.journal.load("idle")
        assert stored.snapshot is not None and stored.updates == ()
        async with join(gw, "idle") as b:
            assert b.source == "kept"
