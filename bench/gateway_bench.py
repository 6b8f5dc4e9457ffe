"""Gateway throughput and fairness, with a raw ``websockets`` echo server as the reference, in one run.

    .venv/bin/python bench/gateway_bench.py [--connections 100] [--workers 50] [--seconds 5]

Servers run in their own processes; the load generator is a minimal asyncio Protocol that sends
pre-encoded WebSocket frames (a full ``websockets`` client costs as much CPU per round trip as the echo
server, so it could not load a server to saturation on this 2-core machine). What each timer covers:
1. reference: a bare ``websockets`` echo server (same library version and settings, no compression);
   each of ``--connections`` clients sends the gateway's ping frame and waits for it to come back.
   Measured before and after (2), after a discarded warm-up phase; the ratio uses the better of the two,
   since on a shared machine the phases see different background load.
2. gateway: ``nexus gateway`` (the real CLI, rate limits off) with clients connected with a token from
   ``auth:login``: the same loop, an authenticated ``ping`` answered by ``pong``; so the figure includes
   parsing, identity and role checks, the per-request task, metrics and the outbox.
3. fairness: ``--workers`` clients doing (2) alone, then again while one more client, in its own process,
   floods the gateway (writes pings as fast as the socket takes them, reads whatever comes back).
Round trips per second count completed request/reply pairs over ``--seconds`` after a 1 s warm-up;
latency is per round trip (send to reply) on the client; "server CPU" is the server process's user+system
time over the same window (/proc), the figure least disturbed when the machine is shared. Phases alternate
(raw, gateway, raw, ...) for ``--rounds`` rounds and the table shows medians.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from websockets.asyncio.server import ServerConnection, serve

WARMUP = 1.0
MASK = secrets.token_bytes(4)


def frame(text: str, opcode: int = 0x1) -> bytes:
    """A masked client frame (RFC 6455 section 5.2): text by default."""
    data = text.encode() if opcode == 0x1 else (1000).to_bytes(2, "big")
    masked = bytes(b ^ MASK[i % 4] for i, b in enumerate(data))
    n = len(data)
    first = 0x80 | opcode
    header = bytes([first, 0x80 | n]) if n < 126 else bytes([first, 0x80 | 126]) + n.to_bytes(2, "big")
    return header + MASK + masked


CLOSE = frame("", opcode=0x8)


class FrameClient(asyncio.Protocol):
    """One WebSocket connection: handshake, then ``on_frame`` for each complete server frame."""

    def __init__(self, path: str, host: str) -> None:
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        self.request = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
        self.buf = bytearray()
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.opened.done():
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[:end]).split(b"\r\n")[0]
            del buf[:end + 4]
            if b" 101 " not in status:
                self.opened.set_exception(RuntimeError(status.decode()))
                return
            self.opened.set_result(None)
        while len(buf) >= 2:
            n, head = buf[1] & 0x7F, 2
            if n == 126:
                n, head = int.from_bytes(buf[2:4], "big"), 4
            elif n == 127:
                n, head = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < head + n:
                return
            payload = bytes(buf[head:head + n])
            del buf[:head + n]
            self.on_frame(payload)

    def on_frame(self, payload: bytes) -> None:
        raise NotImplementedError


class Worker(FrameClient):
    """Sends a frame, waits for the reply, repeats until ``stop_at``; records latencies after ``measure_from``."""

    def __init__(self, path: str, host: str, ping: bytes, expect: bytes, measure_from: float, stop_at: float,
                 latencies: list[float]) -> None:
        super().__init__(path, host)
        self.ping, self.expect, self.measure_from, self.stop_at = ping, expect, measure_from, stop_at
        self.latencies = latencies
        self.sent_at = 0.0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def start(self) -> None:
        assert self.transport is not None
        self.sent_at = time.perf_counter()
        self.transport.write(self.ping)

    def on_frame(self, payload: bytes) -> None:
        now = time.perf_counter()
        if self.expect not in payload:
            self.done.set_exception(RuntimeError(f"unexpected reply {payload[:200]!r}"))
            return
        if self.sent_at >= self.measure_from:
            self.latencies.append(now - self.sent_at)
        if now < self.stop_at:
            self.start()
        elif not self.done.done():
            self.done.set_result(None)


class Flooder(FrameClient):
    """Writes pings as fast as the socket takes them (honouring flow control), counting the replies."""

    def __init__(self, path: str, host: str, stop_at: float) -> None:
        super().__init__(path, host)
        self.frames = [frame(json.dumps({"type": "ping", "id": i})) for i in range(4096)]
        self.stop_at, self.sent, self.paused = stop_at, 0, False
        self.replies = {"pong": 0, "error": 0}

    def fill(self) -> None:
        if self.paused or time.perf_counter() >= self.stop_at or self.transport is None:
            return
        for _ in range(256):
            self.transport.write(self.frames[self.sent % len(self.frames)])
            self.sent += 1
            if self.paused:
                return
        asyncio.get_running_loop().call_soon(self.fill)

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self.fill()

    def on_frame(self, payload: bytes) -> None:
        self.replies["pong" if b'"pong"' in payload else "error"] += 1


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(url: str, connections: int, seconds: float, expect: bytes, server_pid: int) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    ping = frame(json.dumps({"type": "ping", "id": 1}))
    latencies: list[float] = []
    workers: list[Worker] = []
    for _ in range(connections):
        _t, worker = await loop.create_connection(
            lambda: Worker(path, parts.netloc, ping, expect, 0.0, 0.0, latencies), parts.hostname, parts.port)
        await worker.opened
        workers.append(worker)
    start = time.perf_counter()
    for worker in workers:
        worker.measure_from, worker.stop_at = start + WARMUP, start + WARMUP + seconds
        worker.start()
    await asyncio.sleep(WARMUP)
    cpu_before = cpu_seconds(server_pid)
    await asyncio.sleep(seconds)
    cpu_used = cpu_seconds(server_pid) - cpu_before
    await asyncio.gather(*(w.done for w in workers))
    for worker in workers:
        assert worker.transport is not None
        worker.transport.write(CLOSE)
        worker.transport.close()
    latencies.sort()
    return {"rps": len(latencies) / seconds, "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
            "server_us": 1e6 * cpu_used / len(latencies), "server_cpu": cpu_used / seconds}


async def flood(url: str, seconds: float) -> None:
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    _t, flooder = await loop.create_connection(
        lambda: Flooder(f"{parts.path}?{parts.query}", parts.netloc, time.perf_counter() + seconds),
        parts.hostname, parts.port)
    await flooder.opened
    flooder.fill()
    await asyncio.sleep(seconds)
    assert flooder.transport is not None
    flooder.transport.abort()  # mid-frame perhaps: the flood just stops
    print(json.dumps({"sent": flooder.sent, **flooder.replies}), flush=True)


async def _echo(ws: ServerConnection) -> None:
    async for message in ws:
        await ws.send(message)


async def serve_echo() -> None:
    async with serve(_echo, "127.0.0.1", 0, compression=None, ping_interval=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()


def start_gateway(tmp: Path) -> tuple[subprocess.Popen[str], str]:
    from nexus.gateway import Role, UserStore

    env = {**os.environ, "NEXUS_CONFIG_DIR": str(tmp / "config"), "NEXUS_GATEWAY_RATE_LIMIT": "off",
           "NEXUS_GATEWAY_PING_INTERVAL": "0"}
    UserStore(tmp / "config" / "gateway-users.json").add("bench", Role.DEVELOPER, "bench-password")
    proc = subprocess.Popen([sys.executable, "-m", "nexus.cli", "gateway", "--port", "0", "--root", str(tmp)],
                            env=env, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        found = re.search(r"listening on (ws://\S+)", line)
        if found:
            return proc, found.group(1)
    raise RuntimeError(f"gateway did not start (exit {proc.wait()})")


async def login(url: str) -> str:
    from websockets.asyncio.client import connect

    async with connect(url) as ws:
        await ws.send(json.dumps({"type": "auth:login", "id": 1,
                                  "payload": {"username": "bench", "password": "bench-password"}}))
        reply = json.loads(await ws.recv())
    return str(reply["data"]["token"])


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=4.0, help="measured seconds per phase")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are reported")
    parser.add_argument("--pin", action="store_true", help="servers on one core, load on the other (Linux)")
    parser.add_argument("--serve-echo", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--flood", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_echo:
        asyncio.run(serve_echo())
        return
    if args.flood:
        asyncio.run(flood(args.flood, args.seconds))
        return

    raw: list[dict[str, float]] = []
    gateway: list[dict[str, float]] = []
    quiet: list[dict[str, float]] = []
    loaded: list[dict[str, float]] = []
    floods: list[str] = []
    echo = subprocess.Popen([sys.executable, __file__, "--serve-echo"], stdout=subprocess.PIPE, text=True)
    assert echo.stdout is not None
    echo_url = f"ws://127.0.0.1:{echo.stdout.readline().strip()}/"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            proc, url = start_gateway(Path(tmp))
            try:
                # --pin: servers on one core, this load generator on the other (the flooder anywhere), so
                # they never queue for the same core; worse when other work shares the machine, since
                # nothing can move away from a busy core. Either way: alternating rounds and medians.
                if args.pin and len(os.sched_getaffinity(0)) >= 2:
                    cores = sorted(os.sched_getaffinity(0))
                    for pid in (echo.pid, proc.pid):
                        os.sched_setaffinity(pid, {cores[0]})
                    os.sched_setaffinity(0, {cores[1]})
                authed = f"{url}?token={asyncio.run(login(url))}"
                # Discarded first phases: the first one in a process measures start-up, not the server.
                asyncio.run(load(echo_url, args.connections, 1.0, b'"ping"', echo.pid))
                asyncio.run(load(authed, args.connections, 1.0, b'"pong"', proc.pid))
                for _ in range(args.rounds):
                    raw.append(asyncio.run(load(echo_url, args.connections, args.seconds, b'"ping"', echo.pid)))
                    gateway.append(asyncio.run(load(authed, args.connections, args.seconds, b'"pong"', proc.pid)))
                for _ in range(args.rounds):
                    quiet.append(asyncio.run(load(authed, args.workers, args.seconds, b'"pong"', proc.pid)))
                    flooder = subprocess.Popen([sys.executable, __file__, "--flood", authed, "--seconds",
                                                str(args.seconds + WARMUP + 1.5)], stdout=subprocess.PIPE,
                                               text=True)
                    if args.pin:
                        os.sched_setaffinity(flooder.pid, range(os.cpu_count() or 1))
                    time.sleep(0.5)
                    loaded.append(asyncio.run(load(authed, args.workers, args.seconds, b'"pong"', proc.pid)))
                    floods.append(flooder.communicate()[0].strip())
            finally:
                proc.terminate()
                proc.wait()
    finally:
        echo.terminate()
        echo.wait()

    def row(name: str, runs: list[dict[str, float]]) -> str:
        r = median_of(runs)
        return (f"| {name} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['server_us']:.1f} | "
                f"{r['server_cpu']:.0%} |")

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {args.rounds} alternating rounds of "
          f"{args.seconds:g} s per phase, medians\n")
    print("| phase | round trips/s | p50 ms | p99 ms | server CPU µs / round trip | server CPU busy |\n"
          "| --- | ---: | ---: | ---: | ---: | ---: |")
    print(row(f"raw websockets echo, {args.connections} conns (reference)", raw))
    print(row(f"gateway authenticated ping, {args.connections} conns", gateway))
    print(row(f"gateway, {args.workers} workers alone", quiet))
    print(row(f"gateway, {args.workers} workers + 1 flooding client", loaded))
    ratios = [g["rps"] / r["rps"] for r, g in zip(raw, gateway, strict=True)]
    cpu = [r["server_us"] / g["server_us"] for r, g in zip(raw, gateway, strict=True)]
    p99 = [b["p99_ms"] / a["p99_ms"] for a, b in zip(quiet, loaded, strict=True)]
    print(f"\ngateway / raw per round: round trips/s {', '.join(f'{x:.0%}' for x in ratios)}; CPU efficiency "
          f"{', '.join(f'{x:.0%}' for x in cpu)} (target >= 50%). Workers' p99 under flood / alone per round: "
          f"{', '.join(f'{x:.2f}x' for x in p99)} (target <= 2x). Flooder per round: {'; '.join(floods)}")


if __name__ == "__main__":
    main()
