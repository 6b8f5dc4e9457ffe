"""Context engine benchmark on the CPython standard library (copied to a temporary workspace).

What each timer covers:
- index / graph sync (cold): `Workspace.index()` then `graph.sync()` from nothing;
- graph sync after one edit: `update_file` of one module, then `sync` (the graph part only);
- build 1M (warm): `build_context` with a 1,000,000-token budget, process and caches warm (the token
  counts of whole files are cached by the graph store after the first build);
- build + store 1M: the same plus `ContextStore.put` (zstd blocks into LMDB);
- reference for builds: reading and decompressing the same files' texts from the index's LMDB, which
  any builder must do;
- stream: consuming `ContextStore.stream()` (64 KiB chunks, async) to the end; reference: the same
  blocks decompressed in a plain loop;
- peak memory while streaming: tracemalloc's peak during the stream (a separate pass);
- merge: `ContextStore.merge` of two stored ~500k-token contexts with a 1M budget;
- graph queries: callers, callees and imports for 300 sampled function names.

    python bench/context_bench.py [--stdlib PATH] [--runs 5] [--calibrate]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sysconfig
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import zstandard


def timed(fn: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return sorted(times), result


def p(times: list[float], q: float) -> float:
    return times[min(len(times) - 1, round(q * (len(times) - 1)))]


def ms(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1e3:8.1f} ms   p95 {p(times, 0.95) * 1e3:8.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stdlib", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calibrate", action="store_true", help="also measure the token estimate's error")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="nexus-context-bench-"))
    os.environ["NEXUS_CACHE_DIR"] = str(work / "cache")
    try:
        return run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> int:
    from nexus.engine import Workspace
    from nexus.engine.context import (
        MAX_BUDGET,
        ContextRequest,
        ContextSettings,
        ContextStore,
        build_context,
        counter_for,
    )
    from nexus.engine.graph import CodeGraph, sync

    root = work / "stdlib"
    shutil.copytree(args.stdlib, root, ignore=shutil.ignore_patterns("site-packages", "__pycache__", "*.pyc"))
    ws = Workspace.open(root)
    t0 = time.perf_counter()
    summary = ws.index()
    index_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    graph_summary = sync(ws)
    sync_s = time.perf_counter() - t0
    print(f"corpus: {args.stdlib} -> {summary.files} files, {summary.bytes / 1e6:.1f} MB, "
          f"{summary.symbols:,} symbols")
    print(f"index (cold)                     {index_s:8.2f} s")
    print(f"graph sync (cold)                {sync_s:8.2f} s   ({graph_summary.edges_recomputed} files)")

    target = root / "json" / "decoder.py"
    edits = []
    for i in range(args.runs):
        target.write_text(target.read_text() + f"\n# edit {i}\n")
        ws.update_file("json/decoder.py")
        t0 = time.perf_counter()
        edit = sync(ws)
        edits.append(time.perf_counter() - t0)
    print(f"graph sync after one edit        {ms(sorted(edits))}   ({edit.edges_recomputed} edge list)")

    counter = counter_for()
    store = ContextStore.open(work / "contexts", ContextSettings())
    request = ContextRequest(query="decode a JSON document and report the position of syntax errors",
                             path="json/decoder.py", line=340, budget=MAX_BUDGET, use_mtime=False)
    t0 = time.perf_counter()
    first = build_context(ws, request, counter=counter)
    cold_s = time.perf_counter() - t0
    builds, context = timed(lambda: build_context(ws, request, counter=counter), args.runs)
    stores, info = timed(lambda: store.put(build_context(ws, request, counter=counter)), args.runs)
    assert context.text() == first.text()
    exact = counter.count(context.text())
    paths = sorted({piece.path for piece in context.pieces if piece.path})

    def read_files() -> int:
        total = 0
        with ws.store.read() as reader:
            for path in paths:
                found = reader.file(path)
                total += len(reader.content(found.file_id) or b"") if found else 0
        return total

    refs, _ = timed(read_files, args.runs)
    print(f"build 1M (first, token cache cold) {cold_s * 1e3:6.0f} ms")
    print(f"build 1M (warm)                  {ms(builds)}   -> {context.token_count:,} tokens "
          f"({counter.name}; exact count of the text {exact:,}), {len(context.pieces)} pieces from {len(paths)} files")
    print(f"build + store 1M (warm)          {ms(stores)}")
    print(f"  reference: read {len(paths)} files from LMDB {ms(refs)}")
    print(f"compressed size                  {info.compressed_size / 1e6:8.2f} MB of {info.size / 1e6:.2f} MB "
          f"(ratio {info.size / info.compressed_size:.2f}, zstd level 3, {info.blocks} blocks)")
    for budget in (8_000, 32_000, 128_000):
        small = ContextRequest(request.query, request.path, request.line, budget=budget, use_mtime=False)
        times, built = timed(lambda request=small: build_context(ws, request, counter=counter), args.runs)
        print(f"build {budget // 1000}k (warm){'':<17} {ms(times)}   -> {built.token_count:,} tokens")

    async def consume() -> int:
        total = 0
        async for chunk in store.stream(info.context_id):
            total += len(chunk)
        return total

    async def consume_runs() -> tuple[list[float], int]:
        times, total = [], 0
        for _ in range(args.runs):
            t0 = time.perf_counter()
            total = await consume()
            times.append(time.perf_counter() - t0)
        return sorted(times), total

    streams, total = asyncio.run(consume_runs())

    def plain() -> int:
        decompressor = zstandard.ZstdDecompressor()
        total = 0
        with store.env.begin(db=store.db["blocks"]) as txn:
            for index in range(info.blocks):
                from nexus.engine.context.records import block_key

                total += len(decompressor.decompress(txn.get(block_key(info.context_id, index))))
        return total

    plains, _ = timed(plain, args.runs)
    mb = total / 1e6
    print(f"stream 1M to a consumer          {mb / statistics.median(streams):8.0f} MB/s  "
          f"(median; p95 time {p(streams, 0.95) * 1e3:.1f} ms for {mb:.2f} MB)")
    print(f"  reference: plain block loop    {mb / statistics.median(plains):8.0f} MB/s")
    tracemalloc.start()
    tracemalloc.reset_peak()
    asyncio.run(consume())
    _now, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak memory while streaming      {peak / 1e6:8.2f} MB (tracemalloc) for a {mb:.2f} MB context")

    half_a = store.put(build_context(ws, ContextRequest("parse and format email messages", budget=500_000,
                                                        use_mtime=False), counter=counter))
    half_b = store.put(build_context(ws, ContextRequest("asynchronous network streams and transports",
                                                        budget=500_000, use_mtime=False), counter=counter))
    merges, merged = timed(lambda: store.merge([half_a.context_id, half_b.context_id], MAX_BUDGET), args.runs)
    print(f"merge two 500k contexts          {ms(merges)}   -> {merged.token_count:,} tokens "
          f"(from {half_a.token_count:,} + {half_b.token_count:,})")

    graph = CodeGraph(ws)
    rng = random.Random(3)
    names = sorted({s.name for f in ws.files()[:400] for s in ws.symbols(f.path) if s.kind == "function"})
    sample = rng.sample(names, min(300, len(names)))
    for label, query in (("callers", graph.callers), ("callees", graph.callees)):
        times = []
        for name in sample:
            t0 = time.perf_counter()
            query(name)
            times.append(time.perf_counter() - t0)
        times.sort()
        print(f"graph {label:<8} ({len(sample)} names)  median {statistics.median(times) * 1e3:6.2f} ms   "
              f"p99 {p(times, 0.99) * 1e3:6.2f} ms")
    files = sorted({d.path for name in sample for d in graph.definitions(name)})[:300]
    times = []
    for path in files:
        t0 = time.perf_counter()
        graph.imports(path)
        graph.importers(path)
        times.append(time.perf_counter() - t0)
    times.sort()
    print(f"graph imports+importers ({len(files)} files) median {statistics.median(times) * 1e3:6.2f} ms   "
          f"p99 {p(times, 0.99) * 1e3:6.2f} ms")

    if args.calibrate:
        calibrate(ws, counter)
    store.close()
    ws.close()
    return 0


def calibrate(ws: Any, counter: Any) -> None:
    from nexus.engine.context import EstimateCounter

    estimate = EstimateCounter()
    pieces = []
    for info in ws.files():
        lines = ws.text(info.path).split("\n")
        pieces += ["\n".join(lines[i:i + 60]) for i in range(0, len(lines), 60)]
    true = [counter.count(t) for t in pieces]
    t0 = time.perf_counter()
    guess = estimate.count_many(pieces)
    seconds = time.perf_counter() - t0
    errors = sorted(abs(g - t) / max(t, 1) for g, t in zip(guess, true, strict=True) if t >= 20)
    print(f"token estimate vs {counter.name} on {len(errors):,} 60-line pieces: median error "
          f"{statistics.median(errors) * 100:.1f}%, p90 {p(errors, 0.9) * 100:.1f}%, total "
          f"{abs(sum(guess) - sum(true)) / sum(true) * 100:.2f}%  "
          f"({sum(len(t) for t in pieces) / seconds / 1e6:.1f} MB/s)")


if __name__ == "__main__":
    raise SystemExit(main())
