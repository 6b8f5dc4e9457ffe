"""What `nexus dap` adds on top of the debuggers it relays, each next to its reference in the same run.

    .venv/bin/python bench/dap_bench.py [--launches 10] [--requests 300]

What each timer covers (client side, over stdio, a fresh adapter process per launch):
1. launch to stop: spawning the adapter -> initialize -> launch a 6-line script with a breakpoint ->
   setBreakpoints -> configurationDone -> the `stopped` event. Reference: the same sequence against
   `python -Xfrozen_modules=off -m debugpy.adapter` directly.
2. request while stopped: one `stackTrace` round trip (request written -> response read) while stopped
   at that breakpoint. Reference: the same request to debugpy's adapter directly.
3. attach: `attach` request -> its response, for a live Python kernel session (connect, heartbeat,
   kernel_info, debugger initialize + attach inside ipykernel), --launches times on fresh adapters.
4. kernel request while stopped: `stackTrace` round trip through nexus dap to a kernel stopped in a
   cell. Reference: the same `debug_request` sent by this process on the kernel's control channel with
   jupyter_client (what nexus dap itself does, minus the DAP hop).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from nexus.kernels import ExecutionService, KernelSettings
from nexus.kernels.debug.protocol import Message, MessageReader, MessageWriter

PROGRAM = "def f(x):\n    y = x * 2\n    return y\n\nfor i in range(3):\n    f(i)\n"
CELL = "def g(x):\n    y = x + 1\n    return y\n\ng(41)\n"
NEXUS = [sys.executable, "-m", "nexus.cli", "dap"]
DEBUGPY = [sys.executable, "-Xfrozen_modules=off", "-m", "debugpy.adapter"]


class Client:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None and process.stdin is not None
        self.process = process
        self.reader = MessageReader(process.stdout)
        self.writer = MessageWriter(process.stdin)
        self.seq = 0
        self.pending: dict[int, asyncio.Future[Message]] = {}
        self.events: asyncio.Queue[Message] = asyncio.Queue()
        self.task = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, argv: list[str]) -> Client:
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env={**os.environ}
        )
        return cls(process)

    async def _read(self) -> None:
        while (message := await self.reader.read()) is not None:
            if message["type"] == "response":
                self.pending.pop(message["request_seq"]).set_result(message)
            elif message["type"] == "event":
                self.events.put_nowait(message)

    def send(self, command: str, arguments: dict[str, Any] | None = None) -> asyncio.Future[Message]:
        self.seq += 1
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self.pending[self.seq] = future
        self.writer.write({"seq": self.seq, "type": "request", "command": command, "arguments": arguments or {}})
        return future

    async def event(self, name: str) -> Message:
        while True:
            message = await asyncio.wait_for(self.events.get(), 60)
            if message["event"] == name:
                return message

    async def close(self) -> None:
        await asyncio.wait_for(self.send("disconnect", {}), 30)
        await self.writer.close()
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        self.task.cancel()


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


async def launch_to_stop(argv: list[str], program: Path, requests: int) -> tuple[float, list[float]]:
    start = time.perf_counter()
    client = await Client.start(argv)
    await client.send("initialize", {"adapterID": "bench", "pathFormat": "path", "linesStartAt1": True})
    launched = client.send("launch", {"program": str(program), "console": "internalConsole"})
    await client.event("initialized")
    await client.send("setBreakpoints", {"source": {"path": str(program)}, "breakpoints": [{"line": 3}]})
    await client.send("configurationDone")
    await launched
    stopped = await client.event("stopped")
    elapsed = time.perf_counter() - start
    trips = []
    for _ in range(requests):
        t0 = time.perf_counter()
        await client.send("stackTrace", {"threadId": stopped["body"]["threadId"]})
        trips.append(time.perf_counter() - t0)
    await client.close()
    return elapsed, trips


async def bench_launch(launches: int, requests: int) -> list[tuple[str, list[float], list[float]]]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        program = Path(folder) / "prog.py"
        program.write_text(PROGRAM)
        results: dict[str, tuple[list[float], list[float]]] = {"nexus dap": ([], []), "debugpy adapter": ([], [])}
        for _ in range(launches):  # alternate, so both see the same background load
            for name, argv in (("nexus dap", NEXUS), ("debugpy adapter", DEBUGPY)):
                elapsed, trips = await launch_to_stop(argv, program, requests // launches)
                results[name][0].append(elapsed)
                results[name][1].extend(trips)
        for name, (starts, trips) in results.items():
            rows.append((name, starts, trips))
    return rows


async def bench_attach(launches: int, requests: int) -> tuple[list[float], list[float], list[float]]:
    async with ExecutionService(KernelSettings(pool={}, cull_idle_seconds=0)) as service:
        session_id = await service.open_session("python", "bench")
        attaches = []
        for _ in range(launches):
            client = await Client.start(NEXUS)
            await client.send("initialize", {"adapterID": "bench", "pathFormat": "path"})
            t0 = time.perf_counter()
            reply = await client.send("attach", {"sessionId": session_id})
            attaches.append(time.perf_counter() - t0)
            assert reply["success"], reply
            await client.close()

        client = await Client.start(NEXUS)
        await client.send("initialize", {"adapterID": "bench", "pathFormat": "path"})
        await client.send("attach", {"sessionId": session_id})
        path = (await client.send("dumpCell", {"code": CELL}))["body"]["sourcePath"]
        await client.send("setBreakpoints", {"source": {"path": path}, "breakpoints": [{"line": 3}]})
        await client.send("configurationDone")
        run = asyncio.create_task(service.execute(CELL, session_id=session_id, timeout=600))
        stopped = await client.event("stopped")
        thread_id = stopped["body"]["threadId"]
        through_nexus, direct = [], []
        kernel_client = service.kernel(session_id).client
        for _ in range(requests):
            t0 = time.perf_counter()
            await client.send("stackTrace", {"threadId": thread_id})
            through_nexus.append(time.perf_counter() - t0)
            msg = kernel_client.session.msg(
                "debug_request", {"type": "request", "seq": 1, "command": "stackTrace", "arguments": {"threadId": thread_id}}
            )
            t0 = time.perf_counter()
            kernel_client.control_channel.send(msg)
            while True:
                reply = await kernel_client.get_control_msg(timeout=30)
                if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
                    break
            direct.append(time.perf_counter() - t0)
        await client.send("continue", {"threadId": thread_id})
        await run
        await client.close()
    return attaches, through_nexus, direct


def ms(values: list[float]) -> str:
    median, p95 = summary(values)
    return f"{median * 1000:.1f} | {p95 * 1000:.1f}"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--launches", type=int, default=10)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    rows = await bench_launch(args.launches, args.requests)
    attaches, through_nexus, direct = await bench_attach(args.launches, args.requests)
    print("| measure | adapter | median ms | p95 ms |")
    print("|---|---|---|---|")
    for name, starts, _ in rows:
        print(f"| launch to stopped at a breakpoint | {name} | {ms(starts)} |")
    for name, _, trips in rows:
        print(f"| stackTrace while stopped (launch) | {name} | {ms(trips)} |")
    print(f"| attach to a kernel session | nexus dap | {ms(attaches)} |")
    print(f"| stackTrace while stopped (kernel) | nexus dap | {ms(through_nexus)} |")
    print(f"| stackTrace while stopped (kernel) | jupyter_client on the control channel | {ms(direct)} |")


if __name__ == "__main__":
    asyncio.run(main())
