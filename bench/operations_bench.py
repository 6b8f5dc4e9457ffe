"""What the operations layer costs: a search called as an operation (role check, pydantic validation,
the operation, encoding to JSON) next to the same engine call made directly, in one run.

    .venv/bin/python bench/operations_bench.py [--files 400] [--rounds 2000]

The corpus is generated (``--files`` Python modules with a few functions each) and indexed once. Timers:
1. reference: ``ws.search_symbols(query, 20)`` and ``ws.search_text(query, 20)`` turned into dicts by hand,
   what the first faces did in their handlers;
2. the reference inside ``asyncio.to_thread``: what moving blocking work off the event loop costs by
   itself (every face does this; on a loaded machine the thread's wake-up dominates);
3. operation: ``Registry.result("search", payload, call)`` for the same queries, which adds the role
   check, parameter validation, the freshness check, one worker-thread hop and pydantic encoding;
4. validation alone: ``codec.decode`` of the search payload, and ``codec.encode`` of a 20-hit result.
Queries rotate over names that exist in the corpus. Medians and p95 in microseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def make_corpus(root: Path, files: int) -> list[str]:
    names = []
    for i in range(files):
        pkg = root / f"pkg{i % 20}"
        pkg.mkdir(parents=True, exist_ok=True)
        body = []
        for j in range(5):
            name = f"compute_{i}_{j}_total"
            names.append(name)
            body.append(f"def {name}(values, scale={j}):\n    \"\"\"Sum values times {j}.\"\"\"\n"
                        f"    return sum(v * scale for v in values)\n\n")
        (pkg / f"mod{i}.py").write_text("".join(body))
    return names


def quantiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e6, ordered[int(len(ordered) * 0.95)] * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()

    from nexus.engine import Workspace
    from nexus.engine.config import Settings
    from nexus.services import Backends, Call, Registry, WorkspaceHandle, codec
    from nexus.services.ops.search import SearchParams

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        names = make_corpus(root, args.files)
        ws = Workspace.open(root, Settings({}))
        ws.index()
        backends = Backends(root, ws.settings, WorkspaceHandle.attached(ws))
        registry = Registry.default()
        call = Call(backends)
        queries = [(names[(i * 37) % len(names)], "symbols" if i % 2 else "text") for i in range(args.rounds)]
        for query, mode in queries[:50]:  # warm both paths
            await registry.result("search", {"query": query, "mode": mode}, call)

        def by_hand(query: str, mode: str) -> list[dict[str, object]]:
            if mode == "symbols":
                return [{"path": h.path, "line": h.line + 1, "name": h.name, "score": h.score}
                        for h in ws.search_symbols(query, 20)]
            return [{"path": h.path, "line": h.line + 1, "preview": h.preview, "score": h.score}
                    for h in ws.search_text(query, 20)]

        direct: list[float] = []
        hopped: list[float] = []
        through: list[float] = []
        for query, mode in queries:  # alternate, so all three see the same machine
            start = time.perf_counter()
            by_hand(query, mode)
            direct.append(time.perf_counter() - start)
            start = time.perf_counter()
            await asyncio.to_thread(by_hand, query, mode)
            hopped.append(time.perf_counter() - start)
            start = time.perf_counter()
            await registry.result("search", {"query": query, "mode": mode}, call)
            through.append(time.perf_counter() - start)

        result = await registry.result("search", {"query": names[0], "mode": "text", "limit": 20}, call)
        payload = {"query": names[0], "mode": "symbols", "limit": 20, "languages": ["py"]}
        decode, encode = [], []
        from nexus.services.ops.search import SearchResult, TextMatch

        typed = SearchResult(tuple(TextMatch(h["path"], h["line"], h["endLine"], h["symbol"], h["language"],
                                             h["score"], h["preview"]) for h in result["hits"]) * 4)
        for _ in range(args.rounds):
            start = time.perf_counter()
            codec.decode(SearchParams, payload, where="search:query")
            decode.append(time.perf_counter() - start)
            start = time.perf_counter()
            codec.encode(typed)
            encode.append(time.perf_counter() - start)
        ws.close()

    print(f"corpus: {args.files} files, {len(names)} functions; {args.rounds} queries, text and symbols alternating")
    print(f"{'timer':<44} {'p50 µs':>9} {'p95 µs':>9}")
    for label, samples in (("reference: engine call + hand-made dicts", direct),
                           ("reference in a worker thread (asyncio hop)", hopped),
                           ("operation: Registry.result('search')", through),
                           ("codec.decode(SearchParams)", decode),
                           (f"codec.encode(result of {len(typed.hits)} hits)", encode)):
        p50, p95 = quantiles(samples)
        print(f"{label:<44} {p50:>9.1f} {p95:>9.1f}")
    p50d, _ = quantiles(direct)
    p50h, _ = quantiles(hopped)
    p50o, _ = quantiles(through)
    print(f"operation vs the engine call: +{p50o - p50d:.1f} µs at p50 ({p50o / p50d:.2f}x); "
          f"vs the same call in a worker thread: +{p50o - p50h:.1f} µs ({p50o / p50h:.2f}x)")


if __name__ == "__main__":
    asyncio.run(main())
