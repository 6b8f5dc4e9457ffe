"""Property: whatever edits several clients make concurrently, every copy ends identical, and again
after the real gateway is killed (``kill -9``) and restarted in the middle of them."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nexus.cli.collab_client import CollabClient

from .process import GatewayProcess

pytestmark = pytest.mark.timeout(600)

CLIENTS = 3
edit = st.tuples(st.integers(0, CLIENTS - 1), st.sampled_from(["insert", "delete"]), st.floats(0, 1),
                 st.text(alphabet="ab é😀\n", min_size=1, max_size=4), st.integers(1, 4))
rounds = st.lists(st.lists(edit, min_size=1, max_size=12), min_size=1, max_size=4)


def apply(client: CollabClient, kind: str, where: float, text: str, length: int) -> None:
    source = client.source
    at = int(where * len(source))
    if kind == "insert" or not source:
        client.insert(at, text)
    else:
        client.delete(min(at, len(source) - 1), length)


async def settle(clients: list[CollabClient], gateway: GatewayProcess) -> str:
    """Every client's edits journaled, then every copy equal to the server's; returns the text."""
    for client in clients:
        await client.wait_acked(timeout=30)
    async with CollabClient(gateway.room("prop")) as observer:
        expected = observer.source
    for client in clients:
        await client.wait_for(lambda c: c.source == expected, timeout=30)
    return expected


async def scenario(before: list[list[tuple[int, str, float, str, int]]],
                   after: list[list[tuple[int, str, float, str, int]]], tmp: Path) -> None:
    gateway = GatewayProcess(tmp)
    gateway.start()
    clients = [CollabClient(gateway.room("prop")) for _ in range(CLIENTS)]
    try:
        for client in clients:
            await client.connect()
        for batch in before:
            for who, kind, where, text, length in batch:  # no waiting between clients: concurrent edits
                apply(clients[who], kind, where, text, length)
            await asyncio.sleep(0)
        first = await settle(clients, gateway)
        assert all(c.source == first for c in clients)
        for batch in after[: len(after) // 2]:
            for who, kind, where, text, length in batch:
                apply(clients[who], kind, where, text, length)
        gateway.kill()
        for client in clients:
            await client.closed.wait()
        for batch in after[len(after) // 2:]:  # offline edits while the gateway is down
            for who, kind, where, text, length in batch:
                apply(clients[who], kind, where, text, length)
        gateway.start()
        for client in clients:
            await client.connect(gateway.room("prop"))
        for client in clients:
            client.insert(0, ".")  # an acknowledged edit covers each client's resync
        final = await settle(clients, gateway)
        assert all(c.source == final for c in clients)
    finally:
        for client in clients:
            await client.close()
        gateway.stop()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=rounds, after=rounds)
def test_concurrent_edits_converge_before_and_after_a_kill(before, after, tmp_path: Path) -> None:
    with tempfile.TemporaryDirectory(dir=tmp_path) as tmp:
        asyncio.run(scenario(before, after, Path(tmp)))
