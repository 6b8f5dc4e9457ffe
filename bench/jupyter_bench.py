"""Jupyter extension benchmark: a real `jupyter server` (subprocess, extension enabled, token auth) on
127.0.0.1, driven by aiohttp over HTTP keep-alive and one WebSocket.

What each timer covers (client side, request sent to last byte received):
- files: `GET nexus/api/files?path=` of a 20 KB file; reference: jupyter-server's own
  `GET api/contents/{path}` of the same file (same server, same auth, same connection);
- ws ping: `ping` -> `pong` on `nexus/api/ws` (one socket, sequential);
- execute (notebook kernel): `POST nexus/api/execute` `print(1)` with the `kernelId` of a warm kernel
  (each request attaches its own client to the kernel); reference: the same code on the same kernel
  through a long-lived jupyter_client `AsyncKernelClient` (the kernel's own round trip);
- ws ide:execute (notebook kernel): the same over the WebSocket, to the `ide:result`;
- execute (one-shot): `POST nexus/api/execute` without `kernelId` (kernel start, run, shutdown);
  reference: jupyter-server's `POST api/kernels` + `DELETE api/kernels/{id}` (the kernel's lifecycle alone).

    python bench/jupyter_bench.py [--runs 200] [--markdown]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from jupyter_client.asynchronous import AsyncKernelClient

TOKEN = "bench-token-" + "x" * 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def timed(fn: Callable[[], Awaitable[Any]], runs: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        await fn()
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


async def wait_up(http: aiohttp.ClientSession, url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError("jupyter server exited")
        try:
            async with http.get(url + "api/status") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("jupyter server did not start")


async def run(runs: int) -> list[tuple[str, tuple[float, float], tuple[float, float] | None, str]]:
    root = Path(tempfile.mkdtemp(prefix="nexus-jbench-"))
    (root / "module.py").write_text("".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(700)))
    runtime = root / ".runtime"
    port = free_port()
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(runtime), JUPYTER_CONFIG_DIR=str(root / ".config"))
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", f"--port={port}", "--ip=127.0.0.1", "--no-browser",
         f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
         "--ServerApp.jpserver_extensions={'nexus.jupyter_ext': True}", "--allow-root", "--log-level=ERROR"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    rows = []
    try:
        async with aiohttp.ClientSession(headers={"Authorization": f"token {TOKEN}"}) as http:
            await wait_up(http, url, process)

            async def get(path: str) -> None:
                async with http.get(url + path) as resp:
                    assert resp.status == 200, await resp.text()
                    await resp.read()

            ours = await timed(lambda: get("nexus/api/files?path=module.py"), runs)
            ref = await timed(lambda: get("api/contents/module.py?content=1&type=file&format=text"), runs)
            rows.append(("files (20 KB)", stats(ours), stats(ref), "jupyter `api/contents`"))

            async with http.ws_connect(url + "nexus/api/ws") as ws:
                counter = iter(range(10**9))

                async def ping() -> None:
                    await ws.send_str(json.dumps({"type": "ping", "id": next(counter)}))
                    await ws.receive()

                rows.append(("ws ping", stats(await timed(ping, runs * 5)), None, ""))

                async with http.post(url + "api/kernels", json={"name": "python3"}) as resp:
                    kernel_id = (await resp.json())["id"]

                async def execute(body: dict[str, Any]) -> None:
                    async with http.post(url + "nexus/api/execute", json=body) as resp:
                        result = await resp.json()
                        assert result.get("exitCode") == 0, result

                client = AsyncKernelClient()
                client.load_connection_file(str(runtime / f"kernel-{kernel_id}.json"))
                client.start_channels()
                await client.wait_for_ready(timeout=60)

                async def direct() -> None:
                    reply = await client.execute_interactive("print(1)", output_hook=lambda msg: None, timeout=30)
                    assert reply["content"]["status"] == "ok"

                ours = await timed(lambda: execute({"code": "print(1)", "kernelId": kernel_id}), runs)
                ref = await timed(direct, runs)
                rows.append(("execute, notebook kernel", stats(ours), stats(ref), "jupyter_client on the same kernel"))

                async def ws_execute() -> None:
                    rid = next(counter)
                    await ws.send_str(json.dumps({"type": "ide:execute", "id": rid,
                                                  "payload": {"code": "print(1)", "kernelId": kernel_id}}))
                    while json.loads((await ws.receive()).data)["type"] != "ide:result":
                        pass

                rows.append(("ws ide:execute, notebook kernel", stats(await timed(ws_execute, runs)),
                             stats(ref), "jupyter_client on the same kernel"))
                client.stop_channels()

                async def lifecycle() -> None:
                    async with http.post(url + "api/kernels", json={"name": "python3"}) as resp:
                        kid = (await resp.json())["id"]
                    async with http.delete(url + f"api/kernels/{kid}") as resp:
                        assert resp.status == 204

                few = max(5, runs // 20)
                ours = await timed(lambda: execute({"code": "print(1)"}), few, warmup=1)
                ref = await timed(lifecycle, few, warmup=1)
                rows.append(("execute, one-shot kernel", stats(ours), stats(ref), "`POST` + `DELETE api/kernels`"))
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    rows = asyncio.run(run(args.runs))
    if args.markdown:
        print("| what | median ms | p95 ms | reference | reference median ms | reference p95 ms |")
        print("|---|---|---|---|---|---|")
    for name, (median, p95), ref, ref_name in rows:
        if args.markdown:
            r = f"{ref[0]:.2f} | {ref[1]:.2f}" if ref else "- | -"
            print(f"| {name} | {median:.2f} | {p95:.2f} | {ref_name or '-'} | {r} |")
        else:
            extra = f"   reference ({ref_name}) {ref[0]:.2f} / {ref[1]:.2f}" if ref else ""
            print(f"{name:34} median {median:8.2f} ms  p95 {p95:8.2f} ms{extra}")


if __name__ == "__main__":
    main()
