"""Live sessions: update latency with 2, 10 and 50 clients in one room, next to a raw pycrdt-websocket
server in the same run; journal throughput; memory per room.

    .venv/bin/python bench/collab_bench.py [--updates 150] [--interval 0.02] [--clients 2,10,50]

What each timer covers:
1. latency: one client types (one character per update, every ``--interval`` seconds); the figure is,
   per update, the time from the writer's local transaction until the *last* of the other clients has
   applied it (all clients are pycrdt ``CollabClient`` s in this process, so client work is the same on
   both servers). Servers run in their own processes:
   - reference: ``pycrdt.websocket.WebsocketServer`` (pycrdt-websocket, no store) behind ``websockets``:
     relay an update to the room after applying it, nothing on disk;
   - nexus: the real ``nexus gateway``: token check, pacing, the room's batch, the LMDB commit (with
     fsync) of every update before anyone sees it, then the broadcast and the writer's ack.
2. journal: ``Journal.append`` of 20,000 typical updates (~30 bytes) one per transaction (the worst case:
   one fsync per keystroke) and in batches of 64 (what the room does under load), and
   ``Journal.compact`` of a 10,000-update room.
3. memory: the gateway's RSS grows by this much per loaded room (100 rooms of 10 KB of text each, their
   clients gone; rooms stay loaded until ``collab.unload_after``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import pycrdt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nexus.cli.collab_client import CollabClient, room_url
from nexus.gateway import Role, TokenIssuer, UserStore, load_secret
from nexus.services.collab import Journal


def reference_server(port_file: str) -> None:
    """The pycrdt-websocket server (run in a child process)."""
    from pycrdt.websocket import WebsocketServer
    from websockets.asyncio.server import serve

    class Adapter:
        def __init__(self, ws: Any) -> None:
            self.ws = ws

        @property
        def path(self) -> str:
            return str(self.ws.request.path).split("?")[0]

        def __aiter__(self) -> Adapter:
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

    async def main() -> None:
        async with WebsocketServer(auto_clean_rooms=False) as server:
            async def handler(ws: Any) -> None:
                await server.serve(Adapter(ws))

            async with serve(handler, "127.0.0.1", 0, max_size=None) as listening:
                Path(port_file).write_text(str(listening.sockets[0].getsockname()[1]))
                await asyncio.Future()

    asyncio.run(main())


def start_reference(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    port_file = tmp / "port"
    proc = subprocess.Popen([sys.executable, __file__, "--serve-reference", str(port_file)])
    deadline = time.monotonic() + 30
    while not port_file.exists() or not port_file.read_text():
        if time.monotonic() > deadline:
            raise RuntimeError("the reference server did not start")
        time.sleep(0.05)
    return proc, f"ws://127.0.0.1:{port_file.read_text()}"


def start_gateway(tmp: Path) -> tuple[subprocess.Popen[str], str, str]:
    root = tmp / "workspace"
    root.mkdir()
    config = tmp / "config"
    UserStore(config / "gateway-users.json").add("dave", Role.DEVELOPER, "dave-password")
    env = {**os.environ, "NEXUS_CONFIG_DIR": str(config), "NEXUS_CACHE_DIR": str(tmp / "cache"),
           "NEXUS_GATEWAY_RATE_LIMIT": "off", "NEXUS_COLLAB_RATE": "100000", "NEXUS_COLLAB_BURST": "100000",
           "NEXUS_COLLAB_MAX_PEERS": "1000"}
    proc = subprocess.Popen([sys.executable, "-m", "nexus.cli", "gateway", "--port", "0", "--root", str(root)],
                            env=env, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    url = ""
    for line in proc.stderr:
        found = re.search(r"listening on (ws://\S+)", line)
        if found:
            url = found.group(1)
            break
    threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()  # type: ignore[union-attr]
    token = TokenIssuer(load_secret("", config / "gateway-secret")).issue("dave", Role.DEVELOPER).token
    return proc, url, token


async def latency(url_for: Any, clients: int, updates: int, interval: float) -> list[float]:
    """Seconds from each update's local transaction until the last other client has it."""
    room = f"bench-{clients}-{time.monotonic_ns()}"
    peers = [CollabClient(url_for(room)) for _ in range(clients)]
    for peer in peers:
        await peer.connect(timeout=60)
    writer, readers = peers[0], peers[1:]
    sent: dict[int, float] = {}
    seen: dict[int, int] = {}
    done: dict[int, float] = {}
    arrived = asyncio.Event()

    def watcher(reader: CollabClient) -> Any:
        def on_remote() -> None:
            length = len(reader.text)  # bytes; one ASCII character per update
            for k in range(getattr(reader, "_bench_seen", 0) + 1, length + 1):
                seen[k] = seen.get(k, 0) + 1
                if seen[k] == len(readers):
                    done[k] = time.perf_counter()
                    arrived.set()
            reader._bench_seen = length  # type: ignore[attr-defined]
        return on_remote

    for reader in readers:
        reader.on_remote.append(watcher(reader))
    for k in range(1, updates + 1):
        sent[k] = time.perf_counter()
        writer.insert(len(writer.source), "x")
        await asyncio.sleep(interval)
    deadline = time.monotonic() + 60
    while len(done) < updates and time.monotonic() < deadline:
        arrived.clear()
        try:
            await asyncio.wait_for(arrived.wait(), 1)
        except TimeoutError:
            pass
    for peer in peers:
        await peer.close()
    if len(done) < updates:
        raise RuntimeError(f"only {len(done)} of {updates} updates reached every client")
    return [done[k] - sent[k] for k in range(11, updates + 1)]  # the first ten warm up


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def journal_figures(tmp: Path) -> dict[str, float]:
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    text = doc.get("source", type=pycrdt.Text)
    updates: list[bytes] = []
    doc.observe(lambda e: updates.append(e.update))
    for i in range(20_000):
        text.insert(len(text), "abcdefghij"[i % 10])
    size = sum(map(len, updates)) / len(updates)
    out: dict[str, float] = {"update_bytes": size}
    for batch in (1, 64):
        journal = Journal(tmp / f"journal-{batch}")
        start = time.perf_counter()
        for first in range(0, len(updates), batch):
            journal.append("room", first + 1, updates[first:first + batch])
        elapsed = time.perf_counter() - start
        out[f"batch{batch}_per_s"] = len(updates) / elapsed
        if batch == 64:
            start = time.perf_counter()
            journal.compact("room", 10_000, doc.get_update())
            out["compact_ms"] = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            stored = journal.load("room")
            loaded: pycrdt.Doc[Any] = pycrdt.Doc()
            loaded.apply_update(stored.snapshot or b"")
            for update in stored.updates:
                loaded.apply_update(update)
            out["reload_ms"] = (time.perf_counter() - start) * 1000
        journal.close()
    return out


async def memory_per_room(url: str, token: str, pid: int, rooms: int = 100) -> float:
    proc = psutil.Process(pid)
    base = proc.memory_info().rss
    body = ("def f(x):\n    return x * 2  # a line of code\n" * 250)[:10_000]
    for i in range(rooms):
        async with CollabClient(room_url(url, f"mem-{i}", token)) as client:
            client.insert(0, body)
            await client.wait_acked(timeout=60)
    await asyncio.sleep(1)
    return (proc.memory_info().rss - base) / rooms


async def main(args: argparse.Namespace) -> None:
    counts = [int(c) for c in args.clients.split(",")]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "ref").mkdir()
        (tmp / "gw").mkdir()
        ref_proc, ref_url = start_reference(tmp / "ref")
        gw_proc, gw_url, token = start_gateway(tmp / "gw")
        try:
            rows = []
            for n in counts:
                ref = await latency(lambda room: f"{ref_url}/{room}", n, args.updates, args.interval)
                ours = await latency(lambda room: room_url(gw_url, room, token), n, args.updates, args.interval)
                rows.append((n, ref, ours))
            memory = await memory_per_room(gw_url, token, gw_proc.pid)
        finally:
            for proc in (ref_proc, gw_proc):
                proc.terminate()
                proc.wait(15)
        journal = journal_figures(tmp)
    print(f"update latency, one writer, {args.updates - 10} updates every {args.interval * 1000:.0f} ms "
          "(ms until the last other client has it)")
    print(f"{'clients':>8} {'pycrdt-ws p50':>14} {'p99':>8} {'nexus p50':>10} {'p99':>8}")
    for n, ref, ours in rows:
        print(f"{n:>8} {statistics.median(ref) * 1000:>14.2f} {pct(ref, 0.99) * 1000:>8.2f} "
              f"{statistics.median(ours) * 1000:>10.2f} {pct(ours, 0.99) * 1000:>8.2f}")
    print(f"journal: {journal['update_bytes']:.0f}-byte updates, {journal['batch1_per_s']:,.0f}/s one per "
          f"transaction (fsync each), {journal['batch64_per_s']:,.0f}/s in batches of 64; compaction of 10,000 "
          f"updates {journal['compact_ms']:.1f} ms, reload {journal['reload_ms']:.1f} ms")
    print(f"memory: {memory / 1024:.0f} KiB of gateway RSS per loaded room (10 KB of text, no client)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-reference":
        reference_server(sys.argv[2])
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=150)
    parser.add_argument("--interval", type=float, default=0.02)
    parser.add_argument("--clients", default="2,10,50")
    asyncio.run(main(parser.parse_args()))
