"""Overhead the provider layer adds to time-to-first-token, against the raw SDK in the same run.

The fake model server (tests/support/fake_llm.py) answers every request after a fixed delay and then
writes headers, the opening events and the first text delta in one write, stamping that moment
(``first_byte_at``, perf_counter; the server runs on a thread of this process, so the clocks agree).

What each timer covers, per request:

- ``raw SDK``: ``first_byte_at`` -> the raw SDK's stream yields its first text event
  (``anthropic``: ``messages.create(stream=True)``, first ``content_block_delta``; ``openai``:
  ``chat.completions.create(stream=True)``, first chunk with content). This is the reference: HTTP
  parsing, SSE decoding and pydantic models, all of which Nexus also pays.
- ``nexus``: ``first_byte_at`` -> ``ProviderRouter.stream()`` yields its first delta (the same SDK
  underneath, plus settings resolution, breaker, timeout guard, two generator layers).
- ``call -> first delta, minus the server's hold``: from calling the API to the first text, minus
  the time the server held the request (``first_byte_at - received_at``): everything the user waits
  for that the model did not cause (request build, connection reuse, send, the first-byte path
  above), for the raw SDK and for Nexus.

Raw and Nexus requests alternate so drift hits both alike; the first requests (imports, connection
set-up) are discarded as warm-up.

    python bench/providers_bench.py [--requests 300] [--delay-ms 20] [--markdown]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import anthropic
import openai

from nexus.engine.config import Settings
from nexus.engine.providers import ProviderRouter, Request, load_providers_config
from tests.support.fake_llm import FakeLLM, Reply

KEY = "bench-key"
PROMPT = "def fibonacci(n):"
WARMUP = 20


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def raw_anthropic(client: anthropic.AsyncAnthropic) -> float:
    """Returns perf_counter at the first text event."""
    stream = await client.messages.create(model="claude-sonnet-5-5", max_tokens=64, stream=True,
                                          messages=[{"role": "user", "content": PROMPT}])
    first_at = 0.0
    async with stream:
        async for event in stream:
            if event.type == "content_block_delta" and not first_at:
                first_at = time.perf_counter()
    return first_at


async def raw_openai(client: openai.AsyncOpenAI) -> float:
    stream = await client.chat.completions.create(model="gpt-5.5", max_completion_tokens=64, stream=True,
                                                  messages=[{"role": "user", "content": PROMPT}])
    first_at = 0.0
    async with stream:
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content and not first_at:
                first_at = time.perf_counter()
    return first_at


async def nexus(router: ProviderRouter, provider: str) -> float:
    first_at = 0.0
    async with router.stream(Request(prompt=PROMPT, max_tokens=64), provider=provider) as answer:
        async for _delta in answer:
            if not first_at:
                first_at = time.perf_counter()
    assert answer.usage is not None and answer.usage.ttft_ms is not None
    return first_at


async def run(requests: int, delay: float) -> dict[str, dict[str, list[float]]]:
    results: dict[str, dict[str, list[float]]] = {}
    with FakeLLM(default=Reply(chunks=tuple(f"tok{i} " for i in range(16)), first_byte_delay=delay)) as fake:
        settings = Settings({"anthropic": {"base_url": fake.base_url("anthropic")},
                             "openai": {"base_url": fake.base_url("openai")}})
        router = ProviderRouter(load_providers_config(settings, env={"ANTHROPIC_API_KEY": KEY,
                                                                     "OPENAI_API_KEY": KEY}))
        raw_clients: dict[str, Any] = {
            "anthropic": anthropic.AsyncAnthropic(api_key=KEY, base_url=fake.base_url("anthropic"), max_retries=0),
            "openai": openai.AsyncOpenAI(api_key=KEY, base_url=fake.base_url("openai"), max_retries=0),
        }
        raw_calls: dict[str, Callable[[Any], Awaitable[float]]] = {"anthropic": raw_anthropic, "openai": raw_openai}
        try:
            for provider in ("anthropic", "openai"):
                series: dict[str, list[float]] = {"raw": [], "nexus": [], "raw_total": [], "nexus_total": []}
                for i in range(requests + WARMUP):
                    for kind in ("raw", "nexus"):
                        started = time.perf_counter()
                        if kind == "raw":
                            first = await raw_calls[provider](raw_clients[provider])
                        else:
                            first = await nexus(router, provider)
                        rec = fake.requests[-1]
                        assert rec.first_byte_at is not None
                        if i >= WARMUP:
                            held = rec.first_byte_at - rec.received_at
                            series[kind].append((first - rec.first_byte_at) * 1000)
                            series[f"{kind}_total"].append((first - started - held) * 1000)
                results[provider] = series
        finally:
            await router.aclose()
            for client in raw_clients.values():
                await client.close()
    return results


def report(results: dict[str, dict[str, list[float]]], requests: int, delay_ms: float, markdown: bool) -> str:
    lines = []
    if markdown:
        lines += [
            "## AI providers: overhead between the provider's first byte and the first delta",
            "",
            (f"`python bench/providers_bench.py --requests {requests} --delay-ms {delay_ms:g}` on "
             f"{platform.python_implementation()} {platform.python_version()}, {_cpus()} CPUs. Fake server "
             f"(tests/support/fake_llm.py) answering after {delay_ms:g} ms; real `anthropic` "
             f"{anthropic.__version__} / `openai` {openai.__version__} SDKs over HTTP on 127.0.0.1; "
             f"{requests} requests per row after {WARMUP} warm-up, raw and Nexus alternating."),
            "",
            "| protocol | timer | p50 ms | p99 ms |",
            "|---|---|---|---|",
        ]
    for provider, series in results.items():
        added = [o - r for o, r in zip(series["nexus"], series["raw"], strict=True)]
        rows = [("first byte -> first text: raw SDK (reference)", series["raw"]),
                ("first byte -> first delta: Nexus router", series["nexus"]),
                ("Nexus added (router - raw, paired requests)", added),
                ("call -> first text minus server hold: raw SDK", series["raw_total"]),
                ("call -> first delta minus server hold: Nexus", series["nexus_total"])]
        for label, values in rows:
            p50, p99 = statistics.median(values), percentile(values, 99)
            if markdown:
                lines.append(f"| {provider} | {label} | {p50:.3f} | {p99:.3f} |")
            else:
                lines.append(f"{provider:9s} {label:48s} p50 {p50:8.3f} ms   p99 {p99:8.3f} ms")
    return "\n".join(lines)


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--markdown", action="store_true", help="print a BENCHMARKS.md section")
    args = parser.parse_args()
    results = asyncio.run(run(args.requests, args.delay_ms / 1000))
    sys.stdout.write(report(results, args.requests, args.delay_ms, args.markdown) + "\n")


if __name__ == "__main__":
    main()
