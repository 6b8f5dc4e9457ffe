"""File localization from real repositories' git history: the commit message as the request, the source
files the commit changed as the truth, the workspace at the commit's parent with the history up to it.

    python bench/retrieval_bench.py --repo /path/to/flask --repo /path/to/express --repo /path/to/jsoup \
        --eval 100 --tune 100

Each ``--repo`` is any git repository (a bare mirror is fine): it is cloned into a temporary folder and
checked out, commit by commit oldest first, at each query's parent; the Nexus index follows incrementally
(the files changed between two checkouts), like an editor after a checkout. Usable commits: not merges,
changing 1-``--max-files`` source files that exist at the parent (the index's languages), test files
left out of the truth (the question is "which file do I change", tests follow their subject). The newest
``--eval`` usable commits per repository are the reported split; the ``--tune`` commits before them are
where weights were chosen. Timers cover ranking only (index, graph and history warm).

Systems: whole-file BM25 in Tantivy (the reference), Nexus's fusion before history (bm25, symbols, uses,
graph), each new signal added alone (history, co-change, tests: the subject lifted by its test and tests
demoted unless the request is about tests), and all together (the default). ``chunk@10``: the share of
commits where one of the 10 best chunks overlaps a changed line of a true file (line-level localization).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pygit2
import tantivy

from nexus.engine import Workspace
from nexus.engine.graph import sync
from nexus.engine.languages import language_for
from nexus.engine.retrieval import DEFAULT_WEIGHTS, RetrievalQuery, Retriever
from nexus.engine.retrieval.tests import is_test
from nexus.engine.vcs import changed_between, open_repository

_SPECIAL = str.maketrans({c: " " for c in '+-&|!(){}[]^"~*?:\\/<>=\'`'})
BEFORE = {"bm25": 1.0, "symbols": 0.3, "uses": 0.3, "graph": 0.1, "recency": 0.5, "history": 0.0,
          "cochange": 0.0, "tests": 0.0, "path": 0.0}
SYSTEMS: dict[str, tuple[dict[str, float], float] | None] = {
    "whole-file BM25 (Tantivy)": None,
    "fusion before history": (BEFORE, 1.0),
    "+ history": ({**BEFORE, "history": DEFAULT_WEIGHTS["history"]}, 1.0),
    "+ co-change (0.2)": ({**BEFORE, "cochange": 0.2}, 1.0),
    "+ tests": ({**BEFORE, "tests": DEFAULT_WEIGHTS["tests"]}, None),
    "+ path names": ({**BEFORE, "path": DEFAULT_WEIGHTS["path"]}, 1.0),
    "all together (default)": (DEFAULT_WEIGHTS, None),
    "all together + co-change (0.1)": ({**DEFAULT_WEIGHTS, "cochange": 0.1}, None),
}


@dataclass
class Query:
    repo: str
    commit: str
    parent: str
    message: str
    truth: set[str]
    lines: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # path -> changed old lines, 0-based


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def usable(repo: pygit2.Repository, max_files: int, wanted: int) -> list[Query]:
    """Usable commits on the first-parent line from HEAD, newest first."""
    out: list[Query] = []
    commit = repo.head.peel(pygit2.Commit)
    while len(out) < wanted and commit.parent_ids:
        parent = commit.parents[0]
        if len(commit.parent_ids) == 1:
            diff = parent.tree.diff_to_tree(commit.tree, context_lines=0)
            diff.find_similar()
            sources = [d for d in diff.deltas if language_for(d.old_file.path) is not None]
            truth = {d.old_file.path for d in sources
                     if d.status_char() in "MR" and not is_test(d.old_file.path)}
            subject = commit.message.strip().split("\n", 1)[0]
            if (truth and len(sources) <= max_files and len(commit.message.split()) >= 3
                    and not subject.lower().startswith(("merge", "release", "bump", "revert"))):
                lines: dict[str, list[tuple[int, int]]] = {}
                for patch in diff:
                    if patch is not None and patch.delta.old_file.path in truth:
                        for hunk in patch.hunks:
                            start = max(hunk.old_start - 1, 0)
                            lines.setdefault(patch.delta.old_file.path, []).append(
                                (start, start + max(hunk.old_lines, 1) - 1))
                out.append(Query("", str(commit.id), str(parent.id), commit.message.strip(), truth, lines))
        commit = parent
    return out


class WholeFile:
    """Whole-file BM25 in Tantivy, kept in step with the checkouts (the reference)."""

    def __init__(self, folder: Path) -> None:
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("path", stored=True, tokenizer_name="raw")
        builder.add_text_field("body", tokenizer_name="default")
        self.index = tantivy.Index(builder.build(), path=str(folder))

    def update(self, root: Path, paths: list[str], removed: list[str]) -> None:
        writer = self.index.writer(100_000_000, 1)
        for rel in [*paths, *removed]:
            writer.delete_documents_by_term("path", rel)
        for rel in paths:
            try:
                body = (root / rel).read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            writer.add_document(tantivy.Document(path=rel, body=body))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()

    def rank(self, text: str, k: int) -> list[str]:
        words = " ".join(w for w in text.translate(_SPECIAL).split() if w not in ("AND", "OR", "NOT", "IN", "TO"))
        if not words:
            return []
        query, _errors = self.index.parse_query_lenient(words, ["body"])
        searcher = self.index.searcher()
        return [searcher.doc(address)["path"][0] for _score, address in searcher.search(query, k).hits]


def metrics(rankings: list[list[str]], truths: list[set[str]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for k in (1, 5, 10):
        out[f"R@{k}"] = statistics.fmean(len(set(r[:k]) & t) / len(t) for r, t in zip(rankings, truths, strict=True))
    reciprocal = []
    for ranking, truth in zip(rankings, truths, strict=True):
        first = next((i for i, p in enumerate(ranking, 1) if p in truth), None)
        reciprocal.append(1 / first if first else 0.0)
    out["MRR"] = statistics.fmean(reciprocal)
    out["all@10"] = statistics.fmean(1.0 if t <= set(r[:10]) else 0.0 for r, t in zip(rankings, truths, strict=True))
    return out


def run_repo(source: Path, work: Path, args: argparse.Namespace) -> dict[str, dict[str, list[object]]]:
    """Per split and system: rankings, truths, times, chunk hits."""
    mirror = pygit2.Repository(str(source))
    queries = usable(mirror, args.max_files, args.eval + args.tune)
    name = source.parent.name if source.name in ("repo", ".git") else source.name
    for q in queries:
        q.repo = name
    split = {q.commit: ("eval" if i < args.eval else "tune") for i, q in enumerate(queries)}
    root = work / name.replace("+", "-")
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(source), str(root)], check=True)
    os.environ["NEXUS_CACHE_DIR"] = str(work / f"cache-{root.name}")
    out: dict[str, dict[str, list[object]]] = {}
    baseline = WholeFile(Path(tempfile.mkdtemp(dir=work)))
    previous: str | None = None
    ws: Workspace | None = None
    started = time.perf_counter()
    for n, q in enumerate(reversed(queries), 1):  # oldest first: each checkout moves HEAD forward a little
        git(root, "checkout", "-q", "--detach", "-f", q.parent)
        if ws is None:
            ws = Workspace.open(root)
        ws.index()
        sync(ws)
        indexed = {f.path for f in ws.files()}
        repo = open_repository(root)
        assert repo is not None
        changed = sorted(indexed) if previous is None else changed_between(repo, previous, q.parent)
        baseline.update(root, [p for p in changed if p in indexed], [p for p in changed if p not in indexed])
        previous = q.parent
        truth = q.truth & indexed
        if not truth:
            continue
        history_ready = Retriever(ws)
        history_ready.history()  # warm, untimed: built once per HEAD
        captured: dict[str, list[str]] = {}
        for system_name, system in SYSTEMS.items():
            t0 = time.perf_counter()
            chunk_hit = None
            if system is None:
                ranking = baseline.rank(q.message, 10)
            else:
                weights, demotion = system
                retriever = Retriever(ws, graph=history_ready.graph, weights=dict(weights),
                                      history=history_ready.history(), test_demotion=demotion)
                query = RetrievalQuery(q.message, use_mtime=False)
                signals = retriever.signals(query)
                ranking = [f.path for f in retriever.rank_files(query, 10, signals)]
                elapsed = time.perf_counter() - t0
                chunks = retriever.rank_chunks(query, 10, signals)
                chunk_hit = any(c.path in q.lines and any(a <= c.end_line and c.start_line <= b
                                                          for a, b in q.lines[c.path]) for c in chunks)
                if system_name.startswith("all"):  # every signal's own ranking, for offline tuning (--dump)
                    captured = {k: v[:200] for k, v in signals.rankings.items()}
                    candidates = {p for v in captured.values() for p in v}
                    captured["_tests"] = sorted(candidates & retriever.test_map().tests)
            if system is None:
                elapsed = time.perf_counter() - t0
            row = out.setdefault(split[q.commit], {}).setdefault(system_name, [])
            row.append({"ranking": ranking, "truth": sorted(truth), "seconds": elapsed, "chunk": chunk_hit,
                        "message": q.message[:300], "commit": q.commit,
                        "signals": captured if system_name.startswith("all") else None})
        if n % 20 == 0:
            print(f"  {name}: {n}/{len(queries)} queries, {time.perf_counter() - started:.0f} s",
                  file=sys.stderr, flush=True)
    if ws is not None:
        ws.close()
    return out


def summarize(rows: list[dict[str, object]]) -> dict[str, float]:
    rankings = [list(r["ranking"]) for r in rows]  # type: ignore[call-overload]
    truths = [set(r["truth"]) for r in rows]  # type: ignore[call-overload]
    out = {k: round(v, 3) for k, v in metrics(rankings, truths).items()}
    out["p50 ms"] = round(statistics.median(float(r["seconds"]) for r in rows) * 1000, 2)  # type: ignore[arg-type]
    hits = [bool(r["chunk"]) for r in rows if r["chunk"] is not None]
    if hits:
        out["chunk@10"] = round(statistics.fmean(hits), 3)
    out["n"] = len(rows)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, action="append", required=True, help="a git repository (repeat)")
    parser.add_argument("--eval", type=int, default=100, help="newest usable commits per repository, reported")
    parser.add_argument("--tune", type=int, default=100, help="usable commits before those, for tuning")
    parser.add_argument("--max-files", type=int, default=10, help="skip commits changing more source files")
    parser.add_argument("--dump", type=Path, help="write every query's rankings here (JSON), for tuning")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="nexus-retrieval-"))
    per_repo: dict[str, dict[str, dict[str, list[object]]]] = {}
    try:
        for source in args.repo:
            found = run_repo(source.resolve(), work, args)
            per_repo[source.parent.name if source.name in ("repo", ".git") else source.name] = found
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.dump:
        args.dump.write_text(json.dumps(per_repo))
    report: dict[str, dict[str, dict[str, float]]] = {}
    for split in ("eval", "tune"):
        for name in SYSTEMS:
            rows = [r for repo in per_repo.values() for r in repo.get(split, {}).get(name, [])]
            if rows:
                report.setdefault(split, {})[name] = summarize(rows)  # type: ignore[arg-type]
            for repo_name, repo in per_repo.items():
                mine = repo.get(split, {}).get(name, [])
                if mine:
                    report.setdefault(f"{split}:{repo_name}", {})[name] = summarize(mine)  # type: ignore[arg-type]
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    for section, systems in report.items():
        print(f"\n[{section}]")
        print(f"{'system':<28} {'n':>4} {'R@1':>6} {'R@5':>6} {'R@10':>6} {'MRR':>6} {'all@10':>6} {'chunk@10':>8} "
              f"{'p50 ms':>7}")
        for name, row in systems.items():
            print(f"{name:<28} {row['n']:>4.0f} {row['R@1']:>6.3f} {row['R@5']:>6.3f} {row['R@10']:>6.3f} "
                  f"{row['MRR']:>6.3f} {row['all@10']:>6.3f} {row.get('chunk@10', float('nan')):>8.3f} "
                  f"{row['p50 ms']:>7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
