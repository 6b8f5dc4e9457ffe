"""Tool-calling faces and the agent's own cost, next to the operation alone, in one run.

    .venv/bin/python bench/agent_bench.py [--calls 300] [--steps 20] [--tests 50]

What each timer covers (medians and p95 over ``--calls`` calls after 20 warm-up calls; the corpus is a
generated fixture repository of 40 modules and a ``--tests``-test pytest suite, indexed first):

1. operation alone: ``Registry.result("search", ...)`` in this process (validation, the index query,
   encoding): the reference every face adds to.
2. gateway: ``search:query`` over the real ``nexus gateway`` (own process, rate limits off), one
   authenticated ``websockets`` client, send to reply.
3. MCP stdio: ``tools/call search`` against the real ``nexus mcp`` (own process), the official ``mcp``
   client, request to result.
4. MCP HTTP: the same over streamable HTTP with the bearer token.
5. agent step: an ``ai.agent`` run of ``--steps`` tool calls of ``status`` against the local fake model
   server (Anthropic wire protocol, real SDK): wall time per step, minus (6) and (1 for ``status``):
   what the loop adds per tool step (building the request with the tools, parsing the tool call,
   the registry call, the receipt, growing the conversation).
6. model turn: one fake-model turn with the same tools and no tool call (the fake answers at once).
7. verification: ``edit.propose`` of a one-line fix in one module: overlay copy, parse and lint
   checks, and the sandboxed pytest run of the tests that import the module; and the whole
   ``--tests`` suite run the same way (``tests.run``) for reference.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

QUERY = {"query": "parse the config value", "mode": "text", "limit": 10}


def make_repo(root: Path, tests: int) -> Path:
    from nexus.engine import Workspace

    (root / "pkg").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "conftest.py").write_text("")
    (root / "pkg" / "__init__.py").write_text("")
    for n in range(40):
        (root / "pkg" / f"mod{n}.py").write_text(
            f'"""Module {n}: parse and format config values."""\n\n\n'
            f"def parse_value_{n}(text):\n    return int(text) + {n}\n\n\n"
            f"def format_value_{n}(value):\n    return str(value - {n})\n")
    per_file = max(1, tests // 10)
    for f in range(10):
        body = [f"from pkg.mod{f} import format_value_{f}, parse_value_{f}\n"]
        for t in range(per_file):
            body.append(f"\n\ndef test_{f}_{t}():\n    assert format_value_{f}(parse_value_{f}('{t}')) == '{t}'\n")
        (root / "tests" / f"test_mod{f}.py").write_text("".join(body))
    with Workspace.open(root) as ws:
        ws.index()
    return root


def stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


async def timed(n: int, warmup: int, run: Any) -> list[float]:
    for _ in range(warmup):
        await run()
    out = []
    for _ in range(n):
        started = time.perf_counter()
        await run()
        out.append((time.perf_counter() - started) * 1000)
    return out


async def bench_direct(root: Path, calls: int) -> list[float]:
    from nexus.engine.config import Settings
    from nexus.services import Backends, Call, Registry

    backends = Backends.open(root, Settings({}), providers=False)
    registry = Registry.default()
    try:
        return await timed(calls, 20, lambda: registry.result("search", QUERY, Call(backends)))
    finally:
        await backends.aclose()


async def bench_gateway(root: Path, tmp: Path, calls: int) -> list[float]:
    import re

    from websockets.asyncio.client import connect

    from nexus.gateway import Role, UserStore

    env = {**os.environ, "NEXUS_CONFIG_DIR": str(tmp / "config"), "NEXUS_GATEWAY_RATE_LIMIT": "off",
           "NEXUS_GATEWAY_PING_INTERVAL": "0"}
    UserStore(tmp / "config" / "gateway-users.json").add("bench", Role.DEVELOPER, "bench-password")
    proc = subprocess.Popen([sys.executable, "-m", "nexus.cli", "gateway", "--port", "0", "--root", str(root)],
                            env=env, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    url = ""
    for line in proc.stderr:
        found = re.search(r"listening on (ws://\S+)", line)
        if found:
            url = found.group(1)
            break
    try:
        async with connect(url, max_size=None) as ws:
            ids = iter(range(1, 1_000_000))

            async def request(type_: str, payload: dict[str, Any]) -> dict[str, Any]:
                id_ = next(ids)
                await ws.send(json.dumps({"type": type_, "id": id_, "payload": payload}))
                while True:
                    reply = json.loads(await ws.recv())
                    if reply.get("id") == id_:
                        return dict(reply)

            await request("auth:login", {"username": "bench", "password": "bench-password"})

            async def one() -> None:
                reply = await request("search:query", QUERY)
                assert reply["type"] == "search:query", reply

            return await timed(calls, 20, one)
    finally:
        proc.terminate()
        proc.wait(10)


async def bench_mcp_stdio(root: Path, calls: int) -> list[float]:
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(command=sys.executable, args=["-m", "nexus.cli", "mcp", "--root", str(root)],
                                   env=dict(os.environ))
    async with Client(params) as client:
        async def one() -> None:
            result = await client.call_tool("search", QUERY)
            assert not result.is_error

        return await timed(calls, 20, one)


async def bench_mcp_http(root: Path, calls: int) -> list[float]:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    token = "bench-token-" + "x" * 24
    proc = subprocess.Popen([sys.executable, "-m", "nexus.cli", "mcp", "--root", str(root), "--http", "--port", "0"],
                            env={**os.environ, "NEXUS_MCP_TOKEN": token}, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    url = proc.stderr.readline().split("serving ", 1)[1].strip()
    try:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            async with Client(streamable_http_client(url, http_client=http)) as client:
                async def one() -> None:
                    result = await client.call_tool("search", QUERY)
                    assert not result.is_error

                return await timed(calls, 20, one)
    finally:
        proc.terminate()
        proc.wait(10)


async def bench_agent(root: Path, steps: int, rounds: int) -> tuple[list[float], list[float], list[float]]:
    """Per-step wall time of agent runs, model turns alone, and the status operation alone."""
    from nexus.engine.config import Settings
    from nexus.engine.providers import ProviderRouter, Request, ToolSpec, load_providers_config
    from nexus.services import Backends, Call, Permission, Registry
    from nexus.services.tools import Toolbox
    from tests.support.fake_llm import FakeLLM, Reply

    registry = Registry.default()
    with FakeLLM() as fake:
        settings = Settings({"providers": {"order": ["anthropic"], "max_retries": 0},
                             "anthropic": {"base_url": fake.base_url("anthropic")}})
        router = ProviderRouter(load_providers_config(settings, env={"ANTHROPIC_API_KEY": "bench-key"}))
        backends = Backends.open(root, Settings({}), providers=False)
        backends.providers = router
        call = Call(backends)
        specs = tuple(ToolSpec(t.name, t.description, t.input_schema)
                      for t in Toolbox(registry, Permission.EDIT,
                                       ("search", "files.read", "files.range", "graph", "repo.map", "diagnostics",
                                        "status", "context.get", "edit.propose")))
        per_step: list[float] = []
        turns: list[float] = []
        try:
            for attempt in range(rounds + 1):  # the first run (SDK import, connections) is discarded
                for n in range(steps):  # distinct arguments, so the repeat guard never fires
                    fake.script("anthropic", Reply.tools(("files_range", {"path": "pkg/mod1.py",
                                                                          "startLine": 1, "endLine": 9 + n})))
                fake.script("anthropic", Reply(text="done"))
                started = time.perf_counter()
                final: Any = None
                async for item in registry.call("ai.agent", {"task": "read", "maxSteps": steps + 1}, call):
                    if item.final:
                        final = item.data
                assert final["stopReason"] == "answered" and len(final["steps"]) == steps, final
                if attempt:
                    per_step.append((time.perf_counter() - started) * 1000 / (steps + 1))
            fake.set_default(Reply(text="ok"), route="anthropic")
            request = Request(prompt="hi", tools=specs)

            async def turn() -> None:
                async with router.stream(request) as answer:
                    async for _ in answer:
                        pass

            turns = await timed(100, 10, turn)
            op = await timed(200, 20, lambda: registry.result(
                "files.range", {"path": "pkg/mod1.py", "startLine": 1, "endLine": 9}, call))
        finally:
            await backends.aclose()
    return per_step, turns, op


async def bench_verify(root: Path, rounds: int) -> tuple[list[float], list[float]]:
    from nexus.engine.config import Settings
    from nexus.services import Backends, Call, Registry

    backends = Backends.open(root, Settings({}), providers=False)
    registry = Registry.default()
    fix = {"edits": [{"path": "pkg/mod3.py", "oldText": "return int(text) + 3", "newText": "return int(text) + 3  # ok"}]}
    try:
        async def propose() -> None:
            done = await registry.result("edit.propose", fix, Call(backends))
            assert done["verification"]["verified"], done["verification"]

        async def suite() -> None:
            done = await registry.result("tests.run", {}, Call(backends))
            assert done["exitCode"] == 0, done["summary"]

        return await timed(rounds, 1, propose), await timed(rounds, 1, suite)
    finally:
        await backends.aclose()


def row(name: str, samples: list[float]) -> str:
    p50, p95 = stats(samples)
    return f"| {name} | {p50:.2f} | {p95:.2f} |"


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tests", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nexus-agent-bench-") as tmp_name:
        tmp = Path(tmp_name)
        os.environ.setdefault("NEXUS_CACHE_DIR", str(tmp / "cache"))
        os.environ.setdefault("NEXUS_CONFIG_DIR", str(tmp / "config"))
        root = make_repo(tmp / "repo", args.tests)
        direct = await bench_direct(root, args.calls)
        gateway = await bench_gateway(root, tmp, args.calls)
        stdio = await bench_mcp_stdio(root, args.calls)
        http = await bench_mcp_http(root, args.calls)
        per_step, turns, op = await bench_agent(root, args.steps, args.rounds)
        propose, suite = await bench_verify(root, args.rounds)
    overhead = [s - statistics.median(turns) - statistics.median(op) for s in per_step]
    print("| timer | p50 ms | p95 ms |")
    print("| --- | --- | --- |")
    print(row("(1) `search` operation alone (in process)", direct))
    print(row("(2) `search:query` over the gateway (WebSocket)", gateway))
    print(row("(3) `tools/call search` over MCP stdio", stdio))
    print(row("(4) `tools/call search` over MCP streamable HTTP", http))
    print(row(f"(5) agent: wall time per step ({args.steps} tool steps + answer, {args.rounds} runs)", per_step))
    print(row("(6) one fake-model turn with the tools, no call", turns))
    print(row("    `files.range` operation alone", op))
    print(row("(5) - (6) - op: the loop's own overhead per tool step", overhead))
    print(row(f"(7) `edit.propose` one-line fix, verified ({args.tests}-test suite, tests touching it)", propose))
    print(row(f"    `tests.run` whole {args.tests}-test suite (overlay + sandbox)", suite))


if __name__ == "__main__":
    asyncio.run(main())
