"""Benchmark of the execution service against raw jupyter_client, in one run.

What each timer covers:
- reference: ``print(1)`` on an already started ipykernel driven by jupyter_client directly (send
  execute_request, read IOPub until the request's ``idle``, read the execute_reply): the floor. It is
  measured in batches of 20 alternating with the Nexus batches, so both see the same machine load.
- nexus warm execute: the same code through ``ExecutionService.execute`` on a session's kernel (sandboxed:
  bubblewrap as an unprivileged user with seccomp, cgroups, rlimits), from the call to the returned result.
- one-shot, pool warm: ``ExecutionService.stream`` with no session, time to the first output item and to
  the result, with the language's pool refilled before each run (the pool is what makes this fast).
- one-shot, cold: the same with no pool: a kernel start on the critical path.
- file run: ``ExecutionService.run_file`` of a ``print(1)`` script (``python FILE`` as a new process in
  the sandbox: launcher, bubblewrap, cgroups, the interpreter's start), call to result; next to the
  reference ``python FILE`` as a plain subprocess, alternating.
- 20 concurrent sessions on this machine's cores: start time for all, then rounds of ``print(1)`` in all 20
  at once: per-execution latency and executions per second.

Run: ``.venv/bin/python bench/kernels_bench.py [--rounds N]``; prints median and p95 for each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jupyter_client.manager import AsyncKernelManager

from nexus.kernels import ExecutionService, KernelSettings, Stream


def stats(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"median {statistics.median(ordered) * 1000:7.2f} ms   p95 {p95 * 1000:7.2f} ms   (n={len(ordered)})"
    )


class RawKernel:
    """The reference: a plain ipykernel and jupyter_client's own client, no Nexus code in the loop."""

    async def start(self) -> None:
        runtime = Path(os.environ.get("TMPDIR", "/tmp")) / f"nexus-bench-{os.getpid()}"
        runtime.mkdir(exist_ok=True)
        self.manager = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=str(runtime / "k"))
        await self.manager.start_kernel(extra_arguments=["--HistoryManager.enabled=False"])
        self.client = self.manager.client()
        self.client.start_channels()
        await self.client.wait_for_ready(timeout=60)

    async def round_trip(self) -> float:
        start = time.perf_counter()
        msg_id = self.client.execute("print(1)", store_history=True)
        while True:
            msg = await self.client.get_iopub_msg(timeout=10)
            if (
                msg["parent_header"].get("msg_id") == msg_id
                and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle"
            ):
                break
        while (await self.client.get_shell_msg(timeout=10))["parent_header"].get("msg_id") != msg_id:
            pass
        return time.perf_counter() - start

    async def stop(self) -> None:
        self.client.stop_channels()
        await self.manager.shutdown_kernel(now=True)


async def warm_round_trips(service: ExecutionService, n: int) -> tuple[list[float], list[float]]:
    """Raw and Nexus round trips, interleaved in batches of 20 so both see the same machine load."""
    raw = RawKernel()
    await raw.start()
    session = await service.open_session("python")
    reference: list[float] = []
    ours: list[float] = []
    try:
        for batch in range(n // 20 + 1):
            for _ in range(20):
                sample = await raw.round_trip()
                if batch:
                    reference.append(sample)
            for _ in range(20):
                start = time.perf_counter()
                result = await service.execute("print(1)", session_id=session)
                if batch:
                    ours.append(time.perf_counter() - start)
                assert result.output == "1\n"
    finally:
        await raw.stop()
        await service.shutdown(session)
    return reference, ours


async def one_shots(service: ExecutionService, n: int, warm: bool) -> tuple[list[float], list[float]]:
    first, done = [], []
    for _ in range(n):
        if warm:
            await service.wait_warm("python", timeout=120)
        start = time.perf_counter()
        seen = None
        async for event in service.stream("print(1)"):
            if seen is None and isinstance(event, Stream):
                seen = time.perf_counter() - start
        done.append(time.perf_counter() - start)
        first.append(seen if seen is not None else done[-1])
    return first, done


async def concurrent_sessions(
    service: ExecutionService, count: int, rounds: int
) -> tuple[float, list[float], float]:
    start = time.perf_counter()
    sessions = await asyncio.gather(*(service.open_session("python") for _ in range(count)))
    started = time.perf_counter() - start
    latencies: list[float] = []

    async def one(session: str) -> None:
        t0 = time.perf_counter()
        result = await service.execute("print(1)", session_id=session)
        latencies.append(time.perf_counter() - t0)
        assert result.output == "1\n"

    t0 = time.perf_counter()
    for _ in range(rounds):
        await asyncio.gather(*(one(s) for s in sessions))
    elapsed = time.perf_counter() - t0
    await asyncio.gather(*(service.shutdown(s) for s in sessions))
    return started, latencies, count * rounds / elapsed


async def file_runs(service: ExecutionService, n: int) -> tuple[list[float], list[float]]:
    folder = Path(tempfile.mkdtemp(prefix="nexus-bench-files-"))
    folder.chmod(0o755)  # the sandbox user must enter it, as it enters a user's project
    script = folder / "hello.py"
    script.write_text("print(1)\n")
    raw: list[float] = []
    ours: list[float] = []
    try:
        for _ in range(n):
            start = time.perf_counter()
            process = await asyncio.create_subprocess_exec(sys.executable, str(script),
                                                           stdout=asyncio.subprocess.PIPE)
            await process.communicate()
            raw.append(time.perf_counter() - start)
            start = time.perf_counter()
            result = await service.run_file(script)
            ours.append(time.perf_counter() - start)
            assert result.output == "1\n", result.output
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return raw, ours


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=300, help="round trips per warm measurement")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    async with ExecutionService(KernelSettings(pool={"python": 1}, cull_idle_seconds=0)) as service:
        for layer, state in getattr(service.backend, "describe", dict)().items():
            print(f"sandbox {layer}: {state}")
        raw, ours = await warm_round_trips(service, args.rounds)
        warm_first, warm_done = await one_shots(service, 20, warm=True)
        raw_files, file_times = await file_runs(service, 20)  # before the 20 sessions load the machine
        conc_start, conc_lat, throughput = await concurrent_sessions(service, 20, 10)
    async with ExecutionService(KernelSettings(pool={}, cull_idle_seconds=0)) as cold_service:
        cold_first, cold_done = await one_shots(cold_service, 5, warm=False)
    ratio = statistics.median(ours) / statistics.median(raw)
    print(f"reference: raw jupyter_client print(1) round trip     {stats(raw)}")
    print(f"nexus warm execute (session)                          {stats(ours)}   {ratio:.2f}x reference")
    print(f"one-shot, pool warm: first output                     {stats(warm_first)}")
    print(f"one-shot, pool warm: result                           {stats(warm_done)}")
    print(f"one-shot, cold start: first output                    {stats(cold_first)}")
    print(f"one-shot, cold start: result                          {stats(cold_done)}")
    print(f"reference: python FILE, plain subprocess               {stats(raw_files)}")
    print(f"file run: python FILE in the sandbox (run_file)        {stats(file_times)}")
    print(f"20 sessions: start all concurrently                   {conc_start * 1000:7.0f} ms")
    print(
        f"20 sessions: print(1) in all at once, per execution   {stats(conc_lat)}   {throughput:.0f} exec/s"
    )
    print(
        f"targets: warm execute <= 1.3x reference: {'met' if ratio <= 1.3 else 'NOT met'}; "
        f"one-shot warm first output <= 50 ms: "
        f"{'met' if statistics.median(warm_first) <= 0.05 else 'NOT met'}"
    )


if __name__ == "__main__":
    asyncio.run(main())
