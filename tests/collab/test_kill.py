"""``kill -9`` of a real ``nexus gateway`` at random moments while clients type: after each restart the
clients resync, every update the gateway acknowledged is still there, and all texts converge."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pycrdt
import pytest
from websockets.exceptions import ConnectionClosed

from nexus.cli.collab_client import CollabClient

from .process import GatewayProcess

pytestmark = pytest.mark.timeout(240)


class RecordingClient(CollabClient):
    """Keeps every update it sent on the current connection, so the acknowledged ones can be checked."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.history: list[bytes] = []
        self.durable: list[bytes] = []  # acknowledged on some connection

    def _local_update(self, event: pycrdt.TransactionEvent) -> None:
        if not self._remote:
            self.history.append(event.update)
        super()._local_update(event)

    def settle(self) -> None:
        """The connection ended: keep what the server acknowledged; the rest must arrive by resync."""
        self.durable.extend(self.history[:self.acked])
        self.history = []

    async def connect(self, url: str | None = None, *, timeout: float = 10.0) -> CollabClient:
        self.settle()
        return await super().connect(url, timeout=timeout)


def contains(state: bytes, update: bytes) -> bool:
    """Whether applying ``update`` to a document holding ``state`` changes nothing (it was already in)."""
    doc: pycrdt.Doc[object] = pycrdt.Doc()
    doc.apply_update(state)
    text = doc.get("source", type=pycrdt.Text)
    before = (str(text), doc.get_state())
    doc.apply_update(update)
    return (str(text), doc.get_state()) == before


async def type_randomly(client: RecordingClient, rng: random.Random, stop: asyncio.Event) -> None:
    while not stop.is_set():
        source = client.source
        if source and rng.random() < 0.3:
            at = rng.randrange(len(source))
            client.delete(at, min(len(source) - at, rng.randint(1, 3)))
        else:
            client.insert(rng.randint(0, len(source)), rng.choice(["a", "bc", "é", "😀", "\n", "def f():\n"]))
        await asyncio.sleep(rng.uniform(0.0, 0.01))


async def test_kill_9_at_random_moments_loses_no_acknowledged_update(tmp_path: Path) -> None:
    rng = random.Random(20)
    gateway = GatewayProcess(tmp_path)
    gateway.start()
    clients = [RecordingClient(gateway.room("src/shared.py")) for _ in range(3)]
    try:
        for client in clients:
            await client.connect()
        for _round in range(4):
            stop = asyncio.Event()
            typists = [asyncio.create_task(type_randomly(c, random.Random(rng.random()), stop)) for c in clients]
            await asyncio.sleep(rng.uniform(0.2, 1.0))
            gateway.kill()  # mid-typing: updates are in flight, in batches, in LMDB transactions
            stop.set()
            await asyncio.gather(*typists)
            for client in clients:
                await client.closed.wait()
            acked = sum(c.acked for c in clients)
            assert acked > 0, "nothing was acknowledged before the kill: the test proves nothing"
            gateway.start()
            # What the restarted gateway has, before any client resyncs: the journal alone.
            observer = CollabClient(gateway.room("src/shared.py"))
            await observer.connect()
            state = observer.doc.get_update()
            await observer.close()
            for client in clients:
                for update in client.history[:client.acked] + client.durable:
                    assert contains(state, update), "an acknowledged update was lost in the kill"
            for client in clients:
                await client.connect(gateway.room("src/shared.py"))
            # One acknowledged edit each: everything a client sent before it (its resync) is journaled too.
            for client in clients:
                client.insert(0, "|")
            for client in clients:
                await client.wait_acked(timeout=30)
            async with CollabClient(gateway.room("src/shared.py")) as observer:
                expected = observer.source
            for client in clients:
                await client.wait_for(lambda c, want=expected: c.source == want, timeout=30)
        texts = {c.source for c in clients}
        assert len(texts) == 1
        final = CollabClient(gateway.room("src/shared.py"))
        await final.connect()
        assert final.source == clients[0].source
        await final.close()
    finally:
        for client in clients:
            try:
                await client.close()
            except ConnectionClosed:
                pass
        gateway.stop()
