"""What the assistant adds to a model's latency, seen from an LSP client, with a reference in the same run.

A real ``nexus lsp`` subprocess (stdio) serves a workspace the script builds (a copy of this repository's
Python packages, indexed by the server); every provider points at the fake model server
(tests/support/fake_llm.py), which holds each request for ``--delay-ms`` and then writes headers, the
opening events and the first text delta in one write, stamping that moment (``first_byte_at``,
perf_counter). The fake server and the LSP client run in this process, so their clocks agree.

What each timer covers, per request:

- ``nexus/chat``: ``first_byte_at`` -> the client receives the first ``$/progress`` partial result
  ``{delta}``: the SDK's HTTP and SSE parsing in the server, the provider router, the assistant's stream,
  the JSON-RPC notification over the pipe and the client's parsing. Reference: the raw ``anthropic``
  SDK in this process, ``first_byte_at`` -> its first ``content_block_delta`` (the floor any client of
  the same SDK pays; requests alternate with the LSP ones).
- ``inline completion``: ``textDocument/inlineCompletion`` (triggerKind Invoked, so no debounce) sent ->
  answer received, minus the time the fake server held the request: grounding (the code around the
  cursor, definitions and ranked chunks from the index), the prompt, the SDK call and the whole answer,
  and the LSP round trip. Measured twice: at a different line each time (the index part of the context
  is computed) and again at the same line (typing on a line: it comes from the server's cache).
  Reference: the raw SDK call for the same answer, minus the hold, with no grounding and no LSP.

    python bench/assistant_bench.py [--requests 200] [--delay-ms 50] [--markdown]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import anthropic
from lsprotocol import types

from tests.assistant.session import Session
from tests.support.fake_llm import FakeLLM, Reply

KEY = "bench-key"
WARMUP = 10
CORPUS = ("engine", "lsp_server", "kernels", "gateway", "cli")
CHAT_FILE = "engine/context/builder.py"
INLINE_FILES = ("engine/assistant/grounding.py", "engine/context/builder.py", "engine/assistant/assistant.py",
                "engine/retrieval/retriever.py", "engine/workspace.py")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def build_corpus(target: Path) -> int:
    files = 0
    for package in CORPUS:
        for source in (ROOT / package).rglob("*.py"):
            if "node_modules" in source.parts or "__pycache__" in source.parts:
                continue
            dest = target / source.relative_to(ROOT)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
            files += 1
    return files


async def raw_first_text(client: anthropic.AsyncAnthropic, whole: bool) -> tuple[float, float]:
    """(perf_counter at the first text event, perf_counter at the end of the answer)."""
    stream = await client.messages.create(model="claude-haiku-5-5", max_tokens=128, stream=True,
                                          messages=[{"role": "user", "content": "def fibonacci(n):"}])
    first_at = 0.0
    async with stream:
        async for event in stream:
            if event.type == "content_block_delta" and not first_at:
                first_at = time.perf_counter()
                if not whole:
                    break
    return first_at, time.perf_counter()


async def run(requests: int, delay: float, workdir: Path) -> dict[str, list[float]]:
    corpus = workdir / "corpus"
    files = build_corpus(corpus)
    reply = Reply(chunks=tuple(f"tok{i} " for i in range(16)), first_byte_delay=delay)
    series: dict[str, list[float]] = {k: [] for k in ("chat", "chat_raw", "inline", "inline_raw", "inline_total",
                                                      "inline_same")}
    with FakeLLM(default=reply) as fake:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OPENAI_", "GEMINI_", "NEXUS_"))}
        env.update(fake.env(KEY), NEXUS_CACHE_DIR=str(workdir / "cache"), NEXUS_CONFIG_DIR=str(workdir / "config"))
        session = Session(corpus, env)
        started = time.perf_counter()
        await session.start()
        sys.stderr.write(f"server ready, {files} files indexed in {time.perf_counter() - started:.1f} s\n")
        raw = anthropic.AsyncAnthropic(api_key=KEY, base_url=fake.base_url("anthropic"), max_retries=0)
        chat_text = (corpus / CHAT_FILE).read_text()
        chat_uri = session.open(CHAT_FILE, chat_text)
        chat_line = next(i for i, line in enumerate(chat_text.split("\n")) if "def run(self)" in line) + 3
        # Cursors at the end of lines inside function bodies, a different (file, line) for each request.
        places = []
        for name in INLINE_FILES:
            text = (corpus / name).read_text()
            uri = session.open(name, text)
            places += [(uri, row, len(line)) for row, line in enumerate(text.split("\n"))
                       if line.startswith("        ") and line.strip() and not line.strip().startswith("#")]
        if len(places) < requests + WARMUP:
            raise SystemExit(f"only {len(places)} distinct cursor places for {requests + WARMUP} requests")
        places = places[::max(1, len(places) // (requests + WARMUP))][:requests + WARMUP]
        try:
            for i in range(requests + WARMUP):
                token = f"bench-{i}"
                await session.request("nexus/chat", {
                    "prompt": "What does this function do?", "textDocument": {"uri": chat_uri},
                    "position": {"line": chat_line, "character": 8}, "partialResultToken": token})
                nexus_first = session.first_partial_at[token] - fake.requests[-1].first_byte_at
                first, _ = await raw_first_text(raw, whole=False)
                raw_first = first - fake.requests[-1].first_byte_at
                uri, row, column = places[i]
                sent, done, held = await inline(session, fake, uri, row, column)
                same_sent, same_done, same_held = await inline(session, fake, uri, row, column)
                sent_raw = time.perf_counter()
                _, raw_done = await raw_first_text(raw, whole=True)
                raw_rec = fake.requests[-1]
                if i >= WARMUP:
                    series["chat"].append(nexus_first * 1000)
                    series["chat_raw"].append(raw_first * 1000)
                    series["inline"].append((done - sent - held) * 1000)
                    series["inline_total"].append((done - sent) * 1000)
                    series["inline_same"].append((same_done - same_sent - same_held) * 1000)
                    series["inline_raw"].append(
                        (raw_done - sent_raw - (raw_rec.first_byte_at - raw_rec.received_at)) * 1000)
        finally:
            await raw.close()
            await session.stop()
    return series


async def inline(session: Session, fake: FakeLLM, uri: str, row: int, column: int) -> tuple[float, float, float]:
    """(sent, received, the provider's hold) of one inline completion request."""
    sent = time.perf_counter()
    result = await session.client.text_document_inline_completion_async(types.InlineCompletionParams(
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
        text_document=types.TextDocumentIdentifier(uri), position=types.Position(row, column)))
    done = time.perf_counter()
    assert isinstance(result, types.InlineCompletionList) and result.items, result
    rec = fake.requests[-1]
    assert rec.first_byte_at is not None
    return sent, done, rec.first_byte_at - rec.received_at


def report(series: dict[str, list[float]], requests: int, delay_ms: float, markdown: bool) -> str:
    added = [n - r for n, r in zip(series["chat"], series["chat_raw"], strict=True)]
    inline_added = [n - r for n, r in zip(series["inline"], series["inline_raw"], strict=True)]
    rows = [
        ("nexus/chat", "provider's first byte -> client's first partial result, over LSP", series["chat"]),
        ("nexus/chat", "reference: first byte -> first text event, raw SDK in process", series["chat_raw"]),
        ("nexus/chat", "added by Nexus and LSP (paired requests)", added),
        ("inline", "sent -> completion received, minus the provider's hold (new line)", series["inline"]),
        ("inline", "the same, again at the same line (workspace context cached)", series["inline_same"]),
        ("inline", "sent -> completion received, provider hold included (new line)", series["inline_total"]),
        ("inline", "reference: raw SDK call -> whole answer, minus the hold", series["inline_raw"]),
        ("inline", "added by Nexus and LSP, new line (grounding, prompt, LSP round trip)", inline_added),
    ]
    lines = []
    if markdown:
        lines += [
            "## Assistant: first token over LSP and inline completion latency (`bench/assistant_bench.py`)",
            "",
            (f"`python bench/assistant_bench.py --requests {requests} --delay-ms {delay_ms:g}` on "
             f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs. A real "
             f"`nexus lsp` over stdio on a copy of this repository's Python packages ({', '.join(CORPUS)}), "
             f"indexed by the server; every provider pointed at the fake server (tests/support/fake_llm.py), "
             f"which holds each request {delay_ms:g} ms then streams 16 chunks; real `anthropic` "
             f"{anthropic.__version__} SDK on both sides. {requests} requests per row after {WARMUP} warm-up."),
            "",
            "| request | timer | p50 ms | p95 ms | p99 ms |",
            "|---|---|---|---|---|",
        ]
    for kind, label, values in rows:
        p50, p95, p99 = statistics.median(values), percentile(values, 95), percentile(values, 99)
        if markdown:
            lines.append(f"| {kind} | {label} | {p50:.2f} | {p95:.2f} | {p99:.2f} |")
        else:
            lines.append(f"{kind:10s} {label:72s} p50 {p50:8.2f}  p95 {p95:8.2f}  p99 {p99:8.2f} ms")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--delay-ms", type=float, default=50.0)
    parser.add_argument("--markdown", action="store_true", help="print a BENCHMARKS.md section")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nexus-assistant-bench-") as workdir:
        series = asyncio.run(run(args.requests, args.delay_ms / 1000, Path(workdir)))
    sys.stdout.write(report(series, args.requests, args.delay_ms, args.markdown) + "\n")


if __name__ == "__main__":
    main()
