"""Retrieval quality from a real repository's history: commit message as the query, the files the commit
changed as the truth; recall@1/5/10 and MRR for Nexus's fused ranking (and its signals alone) against
plain whole-file BM25 in Tantivy.

History source: a GNU-style ChangeLog generated from git (gitlog-to-changelog), as shipped in release
tarballs: each commit is a subject line, an optional body, and ``* path (function): ...`` lines naming
every file it changed. Used here: strace 6.1 (``apt-get source strace`` on Debian 12 gives
``strace_6.1.orig.tar.xz``; its ``ChangeLog`` holds the commits up to the release):

    python bench/retrieval_bench.py --source strace-6.1 --subdir src --commits 500

Only the ``--subdir`` tree is indexed, and a commit counts when at least one file it changed is in it.
The snapshot is the release, i.e. *after* the commits, as in "find the code this message is about";
the ChangeLog itself is not indexed. The query is the commit's subject and body without its file
lines (those name the answer). Timers cover one query end to end (ranking only, index warm).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import tantivy

from nexus.engine import Workspace
from nexus.engine.graph import sync
from nexus.engine.retrieval import RetrievalQuery, Retriever

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}\s")
_FILES = re.compile(r"^\*\s+([^:(\[]+)")
_SPECIAL = str.maketrans({c: " " for c in '+-&|!(){}[]^"~*?:\\/<>=\'`'})


@dataclass(frozen=True)
class Commit:
    query: str
    files: tuple[str, ...]


def parse(text: str) -> list[Commit]:
    """Commits, newest first, from a gitlog-to-changelog ChangeLog: under each date line, a paragraph
    that does not start with ``*`` after a commit's file list starts the next commit."""
    commits: list[Commit] = []
    for entry in re.split(r"\n(?=\d{4}-\d{2}-\d{2}\s)", text):
        paragraphs = [p for p in re.split(r"\n\s*\n", entry) if p.strip()]
        message: list[str] = []
        files: list[str] = []
        for paragraph in paragraphs:
            lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
            if _DATE.match(lines[0]):
                lines = lines[1:]
            if not lines:
                continue
            if not lines[0].startswith("*") and files:
                commits.append(Commit(" ".join(message), tuple(dict.fromkeys(files))))
                message, files = [], []
            in_files = False
            for line in lines:
                found = _FILES.match(line)
                if found:
                    in_files = True
                    files.extend(p.strip() for p in found.group(1).split(",") if p.strip())
                elif not in_files:
                    message.append(line)
        if message and files:
            commits.append(Commit(" ".join(message), tuple(dict.fromkeys(files))))
    return commits


def whole_file_bm25(root: Path, paths: list[str], index_dir: Path) -> tantivy.Index:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("path", stored=True, tokenizer_name="raw")
    builder.add_text_field("body", tokenizer_name="default")
    index = tantivy.Index(builder.build(), path=str(index_dir))
    writer = index.writer(200_000_000, 2)
    for rel in paths:
        body = (root / rel).read_text(encoding="utf-8", errors="replace")
        writer.add_document(tantivy.Document(path=rel, body=body))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    return index


def bm25_rank(index: tantivy.Index, text: str, k: int) -> list[str]:
    words = " ".join(w for w in text.translate(_SPECIAL).split() if w not in ("AND", "OR", "NOT", "IN", "TO"))
    if not words:
        return []
    query, _errors = index.parse_query_lenient(words, ["body"])
    searcher = index.searcher()
    return [searcher.doc(address)["path"][0] for _score, address in searcher.search(query, k).hits]


def metrics(rankings: list[list[str]], truths: list[set[str]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for k in (1, 5, 10):
        out[f"recall@{k}"] = statistics.fmean(len(set(r[:k]) & t) / len(t) for r, t in zip(rankings, truths, strict=True))
    reciprocal = []
    for ranking, truth in zip(rankings, truths, strict=True):
        first = next((i for i, p in enumerate(ranking, 1) if p in truth), None)
        reciprocal.append(1 / first if first else 0.0)
    out["MRR"] = statistics.fmean(reciprocal)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True, help="the unpacked source tree")
    parser.add_argument("--changelog", type=Path, help="default: SOURCE/ChangeLog")
    parser.add_argument("--subdir", default="src", help="the part of the tree to index")
    parser.add_argument("--commits", type=int, default=500, help="the most recent N usable commits")
    parser.add_argument("--skip", type=int, default=0,
                        help="skip the most recent N usable commits (a separate split for tuning weights)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    text = (args.changelog or args.source / "ChangeLog").read_text(encoding="utf-8", errors="replace")
    work = Path(tempfile.mkdtemp(prefix="nexus-retrieval-"))
    os.environ["NEXUS_CACHE_DIR"] = str(work / "cache")
    try:
        root = work / "ws"
        shutil.copytree(args.source / args.subdir, root / args.subdir)
        ws = Workspace.open(root)
        started = time.perf_counter()
        ws.index()
        indexed = {f.path for f in ws.files()}
        index_seconds = time.perf_counter() - started
        started = time.perf_counter()
        sync(ws)
        graph_seconds = time.perf_counter() - started

        commits: list[tuple[str, set[str]]] = []
        skipped = 0
        for commit in parse(text):
            # Before strace 5.12 the sources sat at the top level: `syscall.c` is now `src/syscall.c`.
            truth = {p if p in indexed else f"{args.subdir}/{p}" for p in commit.files}
            truth &= indexed
            if truth and commit.query.strip():
                if skipped < args.skip:
                    skipped += 1
                    continue
                commits.append((commit.query, truth))
            if len(commits) >= args.commits:
                break
        baseline = whole_file_bm25(root, sorted(indexed), Path(tempfile.mkdtemp(dir=work)))

        systems = {
            "whole-file BM25 (baseline)": None,
            "chunk BM25 only": {"bm25": 1.0, "symbols": 0.0, "graph": 0.0, "recency": 0.0},
            "chunk BM25 + symbols (1.0)": {"bm25": 1.0, "symbols": 1.0, "graph": 0.0, "recency": 0.0},
            "chunk BM25 + uses (0.5)": {"bm25": 1.0, "uses": 0.5, "symbols": 0.0, "graph": 0.0, "recency": 0.0},
            "chunk BM25 + graph (0.5)": {"bm25": 1.0, "symbols": 0.0, "graph": 0.5, "recency": 0.0},
            "fused, default weights": None,
        }
        results = {}
        for name, weights in systems.items():
            rankings, times = [], []
            baseline_run = name.startswith("whole-file")
            retriever = None if baseline_run else Retriever(ws, weights=weights)
            for query, _truth in commits:
                t0 = time.perf_counter()
                if retriever is None:
                    ranking = bm25_rank(baseline, query, 10)
                else:
                    ranking = [f.path for f in retriever.rank_files(RetrievalQuery(query, use_mtime=False), 10)]
                times.append(time.perf_counter() - t0)
                rankings.append(ranking)
            times.sort()
            results[name] = {**{k: round(v, 4) for k, v in metrics(rankings, [t for _q, t in commits]).items()},
                             "p50 ms": round(statistics.median(times) * 1000, 2),
                             "p95 ms": round(times[int(len(times) * 0.95) - 1] * 1000, 2)}
        ws.close()
        report = {"source": str(args.source), "subdir": args.subdir, "files": len(indexed),
                  "commits": len(commits), "mean files per commit": round(statistics.fmean(len(t) for _q, t in commits), 2),
                  "index s": round(index_seconds, 2), "graph sync s": round(graph_seconds, 2), "results": results}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"{report['commits']} commits over {report['files']} files of {args.source}/{args.subdir} "
          f"({report['mean files per commit']} indexed files changed per commit); "
          f"index {report['index s']} s, graph sync {report['graph sync s']} s")
    header = f"{'system':<42} {'R@1':>6} {'R@5':>6} {'R@10':>6} {'MRR':>6} {'p50 ms':>7} {'p95 ms':>7}"
    print(header)
    for name, row in results.items():
        print(f"{name:<42} {row['recall@1']:>6.3f} {row['recall@5']:>6.3f} {row['recall@10']:>6.3f} "
              f"{row['MRR']:>6.3f} {row['p50 ms']:>7.2f} {row['p95 ms']:>7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
