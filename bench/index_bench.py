"""Index benchmark on the CPython standard library of the running interpreter.

    python bench/index_bench.py [--root PATH] [--queries 500] [--rounds 3] [--json]

What each timer covers, all in one run on the same files and the same number of processes:
  (a) reference: read + tree-sitter parse + definitions query only (no storage, no search index)
  (b) cold `Workspace.index()` into an empty cache: walk, parse, extract, LMDB + Tantivy, commit
  (c) re-index with no change: `Workspace.index()` in-process, and `nexus index` as a command
  (d) one edited file made searchable: `Workspace.update_file()` (the editor path) and an
      incremental `Workspace.index()` (the CLI path), each until `search_symbols` finds the edit
  (e) 500 symbol queries and 500 text queries, p50/p99
  (f) peak memory (RSS, sampled: the indexing process, and it plus its worker processes)
  (g) index size on disk (LMDB store, Tantivy, and the code graph `nexus index` also builds)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import tree_sitter as ts

from nexus.engine import Workspace
from nexus.engine.languages import grammar
from nexus.engine.parsing.extract import spec_for
from nexus.engine.walker import Candidate, Walker


def stdlib_root() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


# -- (a) the reference ------------------------------------------------------------------------------

_QUERIES: dict[str, ts.Query] = {}


def _definitions_query(language: str) -> ts.Query:
    found = _QUERIES.get(language)
    if found is None:
        source = "\n".join(line for line in spec_for(language).query.splitlines() if "@definition" in line)
        found = _QUERIES[language] = ts.Query(grammar(language), source)
    return found


def _reference_batch(paths: list[tuple[str, str]]) -> int:
    count = 0
    parsers: dict[str, ts.Parser] = {}
    for path, language in paths:
        with open(path, "rb") as fh:
            data = fh.read()
        parser = parsers.get(language) or parsers.setdefault(language, ts.Parser(grammar(language)))
        tree = parser.parse(data)
        for nodes in ts.QueryCursor(_definitions_query(language)).captures(tree.root_node).values():
            count += len(nodes)
    return count


def reference(files: list[Candidate], workers: int) -> tuple[float, int]:
    work = [(c.absolute, c.language) for c in files if c.language != "notebook"]
    batches = [work[i:i + 64] for i in range(0, len(work), 64)]
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["nexus.engine.worker"])
    started = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        symbols = sum(pool.map(_reference_batch, batches))
    return time.perf_counter() - started, symbols


# -- (b), (f) cold index in a fresh process --------------------------------------------------------

def cold_index(root: Path, cache: Path) -> dict[str, float]:
    """Run a cold index in a fresh process, sampling the RSS of it and its worker processes."""
    import psutil

    code = (
        "import json, sys, time\n"
        "from nexus.engine import Workspace\n"
        "ws = Workspace.open(sys.argv[1])\n"
        "t = time.perf_counter(); s = ws.index(); elapsed = time.perf_counter() - t\n"
        "print(json.dumps({'seconds': elapsed, 'files': s.files, 'symbols': s.symbols, 'chunks': s.chunks,"
        " 'bytes': s.bytes}))\n"
    )
    env = {**os.environ, "NEXUS_CACHE_DIR": str(cache)}
    process = subprocess.Popen([sys.executable, "-c", code, str(root)], stdout=subprocess.PIPE, text=True, env=env)
    parent = psutil.Process(process.pid)
    peak_main = peak_total = 0
    while process.poll() is None:
        try:
            main_rss = parent.memory_info().rss
            total = main_rss + sum(child.memory_info().rss for child in parent.children(recursive=True))
        except psutil.Error:
            continue
        peak_main, peak_total = max(peak_main, main_rss), max(peak_total, total)
        time.sleep(0.05)
    out, _ = process.communicate()
    if process.returncode:
        raise SystemExit(f"cold index failed with {process.returncode}")
    found: dict[str, float] = json.loads(out)
    found.update(rss_main_mb=peak_main / 2**20, rss_total_mb=peak_total / 2**20)
    return found


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=stdlib_root())
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="alternating reference/cold-index rounds")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    root: Path = args.root.resolve()
    workers = os.cpu_count() or 1

    # The same files the indexer takes (site-packages is excluded by the walker).
    files = [c for c in Walker(root, 2_000_000).walk() if isinstance(c, Candidate)]
    size = sum(c.size for c in files)
    results: dict[str, object] = {"root": str(root), "files": len(files), "mb": round(size / 1e6, 1),
                                  "workers": workers, "python": sys.version.split()[0]}

    cache = Path(tempfile.mkdtemp(prefix="nexus-bench-"))
    os.environ["NEXUS_CACHE_DIR"] = str(cache)
    try:
        # Alternating rounds, medians: on a shared machine, load that comes and goes hits both sides.
        ref_runs, cold_runs = [], []
        for round_number in range(args.rounds):
            ref_seconds, ref_symbols = reference(files, workers)
            ref_runs.append(ref_seconds)
            round_cache = cache if round_number == args.rounds - 1 else Path(tempfile.mkdtemp(prefix="nexus-bench-"))
            cold = cold_index(root, round_cache)
            cold_runs.append(cold["seconds"])
            if round_cache != cache:
                shutil.rmtree(round_cache, ignore_errors=True)
        ref_seconds, cold_seconds = statistics.median(ref_runs), statistics.median(cold_runs)
        results["a_reference_s"] = {"median": round(ref_seconds, 3), "runs": [round(r, 2) for r in ref_runs]}
        results["b_cold_index_s"] = {"median": round(cold_seconds, 3), "runs": [round(r, 2) for r in cold_runs]}
        results["b_ratio"] = round(cold_seconds / ref_seconds, 2)
        results.update(symbols=cold["symbols"], chunks=cold["chunks"], reference_definitions=ref_symbols)
        results["f_peak_rss_mb"] = {"indexer": round(cold["rss_main_mb"]),
                                    "indexer_and_workers": round(cold["rss_total_mb"])}

        ws = Workspace.open(root)
        started = time.perf_counter()
        summary = ws.index()
        results["c_reindex_no_change_s"] = round(time.perf_counter() - started, 3)
        assert summary.parsed == 0, summary.to_json()
        # `nexus index` also brings the code graph up to date: its first run builds the graph (reported
        # on its own), the second is the no-change re-index a user sees.
        command = [sys.executable, "-m", "nexus.cli", "index", str(root), "--json"]
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        results["graph_cold_sync_command_s"] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        results["c_reindex_command_s"] = round(time.perf_counter() - started, 3)

        # (d): edit copies of real files in a scratch workspace so the stdlib is never touched.
        scratch = Path(tempfile.mkdtemp(prefix="nexus-bench-ws-"))
        sample = random.Random(7).sample([c for c in files if c.language == "python"], 20)
        for candidate in sample:
            shutil.copyfile(candidate.absolute, scratch / f"f{sample.index(candidate)}.py")
        scratch_ws = Workspace.open(scratch)
        scratch_ws.index()
        update_times, incremental_times = [], []
        for i in range(20):
            path = scratch / f"f{i}.py"
            marker = f"edited_marker_{i}"
            path.write_text(path.read_text() + f"\ndef {marker}():\n    pass\n")
            started = time.perf_counter()
            scratch_ws.update_file(str(path))
            assert scratch_ws.search_symbols(marker, 1)[0].name == marker
            update_times.append(time.perf_counter() - started)
            marker2 = f"edited_again_{i}"
            path.write_text(path.read_text() + f"\ndef {marker2}():\n    pass\n")
            started = time.perf_counter()
            scratch_ws.index()
            assert scratch_ws.search_symbols(marker2, 1)[0].name == marker2
            incremental_times.append(time.perf_counter() - started)
        scratch_ws.close()
        shutil.rmtree(scratch, ignore_errors=True)
        results["d_update_file_ms"] = {"p50": round(statistics.median(update_times) * 1000, 1),
                                       "max": round(max(update_times) * 1000, 1)}
        results["d_incremental_index_ms"] = {"p50": round(statistics.median(incremental_times) * 1000, 1),
                                             "max": round(max(incremental_times) * 1000, 1)}

        # (e): queries drawn from the index itself: exact names, prefixes, abbreviations, typos, words.
        rng = random.Random(11)
        symbol_names = [h for f in rng.sample(ws.files(), min(300, len(ws.files()))) for h in ws.symbols(f.path)]
        names = [s.name for s in rng.sample(symbol_names, min(args.queries, len(symbol_names)))]
        symbol_queries = []
        for i, name in enumerate(names):
            variant = i % 4
            if variant == 1 and len(name) > 4:
                name = name[: max(2, len(name) // 2)]
            elif variant == 2 and "_" in name.strip("_"):
                name = "_".join(part[:3] for part in name.split("_") if part)
            elif variant == 3 and len(name) > 5:
                name = name[:2] + name[3:]  # a dropped letter
            symbol_queries.append(name)
        words = [w for s in symbol_names if s.doc for w in s.doc.split() if w.isalpha() and len(w) > 3]
        text_queries = [" ".join(rng.sample(words, 3)) for _ in range(args.queries)]
        ws.search_symbols("warm", 5)
        ws.search_text("warm up", 5)
        symbol_times, text_times = [], []
        for query in symbol_queries:
            started = time.perf_counter()
            ws.search_symbols(query, 20)
            symbol_times.append(time.perf_counter() - started)
        for query in text_queries:
            started = time.perf_counter()
            ws.search_text(query, 20)
            text_times.append(time.perf_counter() - started)
        results["e_symbol_query_ms"] = {"p50": round(percentile(symbol_times, 0.5) * 1000, 2),
                                        "p99": round(percentile(symbol_times, 0.99) * 1000, 2)}
        results["e_text_query_ms"] = {"p50": round(percentile(text_times, 0.5) * 1000, 2),
                                      "p99": round(percentile(text_times, 0.99) * 1000, 2)}
        results["g_index_size_mb"] = {part.name: round(_size(part) / 1e6, 1)
                                      for part in sorted(ws.index_dir.iterdir()) if part.is_dir()}
        ws.close()
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for key, value in results.items():
        print(f"{key:28} {value}")


if __name__ == "__main__":
    main()
