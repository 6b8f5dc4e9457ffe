"""Index benchmark on the CPython standard library of the running interpreter.

    python bench/index_bench.py [--root PATH] [--queries 500] [--rounds 3] [--scale 5,10] [--json]

What each timer covers, all in one run on the same files and the same number of processes. Wall
times next to CPU times (the process and every worker it starts, sampled): on a shared machine the
wall time of either side stretches with the load, CPU time much less.
  (a) reference: read + tree-sitter parse + definitions query only (no storage, no search index)
  (b) cold `nexus index` as a user runs it (the CLI in a fresh process, code graph included), with
      the phases it reports (scan, parse + write, commit, graph); rounds alternate with (a)
  (c) re-index with no change: `Workspace.index()` in-process, and `nexus index` as a command
  (d) one edited file made searchable and in the code graph: `Workspace.update_file()` (the editor
      path) and an incremental `Workspace.index()` (the CLI path), each until `search_symbols` finds
      the edit and the graph has its definition
  deferred: the graph's file edges and the ranking matrix, built by the first ranking query
  (e) 500 symbol queries and 500 text queries, p50/p99
  (f) peak memory (RSS, sampled: the indexing process, and it plus its worker processes)
  (g) index size on disk (LMDB store, Tantivy, and the code graph `nexus index` also builds)
  scale: the root copied N times under different folder names (hard links), cold `nexus index`:
      files/s, peak RSS, index size, and seconds per 1,000 files at each size
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
from typing import Any

import tree_sitter as ts

from nexus.engine import Workspace
from nexus.engine.graph import CodeGraph, GraphStore
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


def _reference_batch(paths: list[tuple[str, str]]) -> tuple[int, float]:
    cpu = time.process_time()
    count = 0
    parsers: dict[str, ts.Parser] = {}
    for path, language in paths:
        with open(path, "rb") as fh:
            data = fh.read()
        parser = parsers.get(language) or parsers.setdefault(language, ts.Parser(grammar(language)))
        tree = parser.parse(data)
        for nodes in ts.QueryCursor(_definitions_query(language)).captures(tree.root_node).values():
            count += len(nodes)
    return count, time.process_time() - cpu


def reference(files: list[Candidate], workers: int) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (the parsing in the workers) and definitions found."""
    work = [(c.absolute, c.language) for c in files if c.language != "notebook"]
    batches = [work[i:i + 64] for i in range(0, len(work), 64)]
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["nexus.engine.worker"])
    started = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        found = list(pool.map(_reference_batch, batches))
    return time.perf_counter() - started, sum(c for _, c in found), sum(n for n, _ in found)


# -- (b), (f) cold `nexus index` in a fresh process ---------------------------------------------------

def run_sampled(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run ``command``; wall seconds, CPU seconds of it and every process under it, and peak RSS."""
    import psutil

    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    parent = psutil.Process(process.pid)
    cpu: dict[int, float] = {}
    peak_main = peak_total = peak_anon = 0
    while process.poll() is None:
        try:
            tree = [parent, *parent.children(recursive=True)]
            main_rss, total, anon = parent.memory_info().rss, 0, 0
            for proc in tree:
                memory = proc.memory_info()
                total += memory.rss
                anon += memory.rss - memory.shared  # without mapped file pages (LMDB reads them via mmap)
                times = proc.cpu_times()
                cpu[proc.pid] = times.user + times.system
        except psutil.Error:
            continue
        peak_main, peak_total, peak_anon = max(peak_main, main_rss), max(peak_total, total), max(peak_anon, anon)
        time.sleep(0.05)
    out, _ = process.communicate()
    wall = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"{command} failed with {process.returncode}")
    return {"seconds": wall, "cpu_seconds": sum(cpu.values()), "rss_main_mb": peak_main / 2**20,
            "rss_total_mb": peak_total / 2**20, "rss_anon_mb": peak_anon / 2**20, "out": out}  # type: ignore[dict-item]


def cold_command(root: Path, cache: Path) -> dict[str, Any]:
    """`nexus index ROOT --json` into an empty cache, as a user runs it."""
    env = {**os.environ, "NEXUS_CACHE_DIR": str(cache)}
    found: dict[str, Any] = run_sampled([sys.executable, "-m", "nexus.cli", "index", str(root), "--json"], env)
    summary = json.loads(found.pop("out"))
    found.update(files=summary["files"], symbols=summary["symbols"], chunks=summary["chunks"],
                 phases=summary["phases"])
    return found


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def scale_runs(root: Path, sizes: list[int]) -> list[dict[str, Any]]:
    """Cold `nexus index` of ``root`` copied N times (hard links, so only the paths differ)."""
    out = []
    for copies in sizes:
        big = Path(tempfile.mkdtemp(prefix="nexus-bench-scale-"))
        cache = Path(tempfile.mkdtemp(prefix="nexus-bench-scale-cache-"))
        try:
            for n in range(copies):
                subprocess.run(["cp", "-al", str(root), str(big / f"copy_{n:02d}")], check=True)
            found = cold_command(big, cache)
            files = int(found["files"])
            out.append({"copies": copies, "files": files, "seconds": round(found["seconds"], 1),
                        "cpu_seconds": round(found["cpu_seconds"], 1),
                        "files_per_s": round(files / found["seconds"]),
                        "s_per_1000_files": round(found["seconds"] / files * 1000, 2),
                        "cpu_s_per_1000_files": round(found["cpu_seconds"] / files * 1000, 2),
                        "peak_rss_mb": {"indexer": round(found["rss_main_mb"]),
                                        "indexer_and_workers": round(found["rss_total_mb"]),
                                        "anonymous": round(found["rss_anon_mb"])},
                        "index_mb": round(_size(cache) / 1e6), "phases": found["phases"]})
        finally:
            shutil.rmtree(big, ignore_errors=True)
            shutil.rmtree(cache, ignore_errors=True)
    return out


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=stdlib_root())
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="alternating reference/cold-index rounds")
    parser.add_argument("--scale", default="", help="comma-separated copy counts for the scale run, e.g. 5,10")
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
        ref_runs, ref_cpu, cold_runs = [], [], []
        for round_number in range(args.rounds):
            ref_seconds, ref_cpu_seconds, ref_symbols = reference(files, workers)
            ref_runs.append(ref_seconds)
            ref_cpu.append(ref_cpu_seconds)
            round_cache = cache if round_number == args.rounds - 1 else Path(tempfile.mkdtemp(prefix="nexus-bench-"))
            cold_runs.append(cold_command(root, round_cache))
            if round_cache != cache:
                shutil.rmtree(round_cache, ignore_errors=True)
        ref_seconds, cold_seconds = statistics.median(ref_runs), statistics.median(r["seconds"] for r in cold_runs)
        ref_cpu_median = statistics.median(ref_cpu)
        cold_cpu = statistics.median(r["cpu_seconds"] for r in cold_runs)
        results["a_reference_s"] = {"median": round(ref_seconds, 3), "runs": [round(r, 2) for r in ref_runs],
                                    "cpu": [round(r, 2) for r in ref_cpu]}
        results["b_cold_command_s"] = {"median": round(cold_seconds, 3),
                                       "runs": [round(r["seconds"], 2) for r in cold_runs],
                                       "cpu": [round(r["cpu_seconds"], 2) for r in cold_runs]}
        results["b_ratio_wall"] = round(cold_seconds / ref_seconds, 2)
        results["b_ratio_cpu"] = round(cold_cpu / ref_cpu_median, 2)
        results["b_phases_s"] = [r["phases"] for r in cold_runs]
        cold = cold_runs[-1]
        results.update(symbols=cold["symbols"], chunks=cold["chunks"], reference_definitions=ref_symbols)
        results["f_peak_rss_mb"] = {"indexer": round(max(r["rss_main_mb"] for r in cold_runs)),
                                    "indexer_and_workers": round(max(r["rss_total_mb"] for r in cold_runs)),
                                    "anonymous": round(max(r["rss_anon_mb"] for r in cold_runs))}

        ws = Workspace.open(root)
        started = time.perf_counter()
        summary = ws.index()
        results["c_reindex_no_change_s"] = round(time.perf_counter() - started, 3)
        assert summary.parsed == 0, summary.to_json()
        command = [sys.executable, "-m", "nexus.cli", "index", str(root), "--json"]
        no_change = [run_sampled(command, dict(os.environ)) for _ in range(3)]
        results["c_reindex_command_s"] = {"median": round(statistics.median(r["seconds"] for r in no_change), 3),
                                          "cpu": [round(r["cpu_seconds"], 2) for r in no_change]}
        startup = [run_sampled([sys.executable, "-c", "import nexus.cli.main"], dict(os.environ)) for _ in range(3)]
        results["c_python_and_cli_import_s"] = round(statistics.median(r["seconds"] for r in startup), 3)

        # Deferred work: the graph's file edges and the ranking matrix, on the first ranking query.
        cpu, started = time.process_time(), time.perf_counter()
        CodeGraph(ws).file_graph()
        results["deferred_graph_edges_and_rank_s"] = {"wall": round(time.perf_counter() - started, 3),
                                                      "cpu": round(time.process_time() - cpu, 3)}

        # (d): edit copies of real files in a scratch workspace so the stdlib is never touched.
        scratch = Path(tempfile.mkdtemp(prefix="nexus-bench-ws-"))
        sample = random.Random(7).sample([c for c in files if c.language == "python"], 20)
        for candidate in sample:
            shutil.copyfile(candidate.absolute, scratch / f"f{sample.index(candidate)}.py")
        scratch_ws = Workspace.open(scratch)
        scratch_ws.index()
        graph_store = GraphStore.for_workspace(scratch_ws)
        update_times, incremental_times = [], []
        for i in range(20):
            path = scratch / f"f{i}.py"
            marker = f"edited_marker_{i}"
            path.write_text(path.read_text() + f"\ndef {marker}():\n    pass\n")
            started = time.perf_counter()
            scratch_ws.update_file(str(path))
            assert scratch_ws.search_symbols(marker, 1)[0].name == marker
            assert [p for p, _w in graph_store.scan("defs", marker)] == [f"f{i}.py"]
            update_times.append(time.perf_counter() - started)
            marker2 = f"edited_again_{i}"
            path.write_text(path.read_text() + f"\ndef {marker2}():\n    pass\n")
            started = time.perf_counter()
            scratch_ws.index()
            assert scratch_ws.search_symbols(marker2, 1)[0].name == marker2
            assert [p for p, _w in graph_store.scan("defs", marker2)] == [f"f{i}.py"]
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
        if args.scale:
            results["scale"] = scale_runs(root, [int(n) for n in args.scale.split(",")])
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for key, value in results.items():
        print(f"{key:28} {value}")


if __name__ == "__main__":
    main()
