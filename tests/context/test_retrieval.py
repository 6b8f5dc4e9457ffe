"""Rank fusion, and hybrid ranking over a real index (and `nexus search --files` on top of it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from nexus.engine import Workspace
from nexus.engine.retrieval import RetrievalQuery, Retriever, fuse


def test_fuse_is_reciprocal_rank_fusion() -> None:
    fused = fuse({"a": ["x", "y", "z"], "b": ["y", "w"]}, k=60)
    scores = {f.key: f.score for f in fused}
    assert fused[0].key == "y"
    assert scores["y"] == 1 / 62 + 1 / 61
    assert scores["x"] == 1 / 61 and scores["w"] == 1 / 62
    assert fused[0].ranks == {"a": 2, "b": 1}
    # Weights scale a signal; zero weight keeps its ranks but adds nothing.
    weighted = fuse({"a": ["x"], "b": ["w"]}, {"a": 0.0, "b": 1.0})
    assert [f.key for f in weighted] == ["w", "x"] and weighted[1].score == 0.0 and weighted[1].ranks == {"a": 1}
    # Duplicates count once, at their first position; ties are broken by key, deterministically.
    assert fuse({"a": ["p", "p", "q"]})[1].ranks == {"a": 2}
    assert [f.key for f in fuse({"a": ["b"], "c": ["a"]})] == ["a", "b"]
    assert fuse({}, limit=3) == [] and len(fuse({"a": list("abcdef")}, limit=3)) == 3


def test_symbol_names_and_text_both_find_files(indexed: Workspace) -> None:
    retriever = Retriever(indexed)
    # Natural language: BM25 over chunks finds the docstring.
    files = retriever.rank_files(RetrievalQuery("read the settings file", use_mtime=False), 5)
    assert files[0].path == "app/config.py" and "bm25" in files[0].ranks
    # An identifier: the symbol signal finds its definition.
    files = retriever.rank_files(RetrievalQuery("why does fetchUser fail", use_mtime=False), 5)
    assert files[0].path == "web/client.ts" and files[0].ranks.get("symbols") == 1
    # Files using an identifier the query names rank through the "uses" signal.
    files = {f.path: f.ranks for f in retriever.rank_files(RetrievalQuery("log_line", use_mtime=False), 10)}
    assert files["app/server.py"].get("uses") == 1 and files["app/util.py"].get("symbols") == 1
    # The graph pulls in what the best files depend on.
    ranked = [f.path for f in retriever.rank_files(RetrievalQuery("fetchUser", use_mtime=False), 10)]
    assert "web/api.ts" in ranked
    # Open files count as recent, and an empty query still ranks them.
    files = retriever.rank_files(RetrievalQuery("", open_files=("native/main.c",), use_mtime=False), 5)
    assert files[0].path == "native/main.c" and files[0].ranks["recency"] == 1
    chunks = retriever.rank_chunks(RetrievalQuery("read one setting", use_mtime=False), 5)
    assert chunks[0].path == "app/config.py" and chunks[0].start_line <= 8 <= chunks[0].end_line


def test_search_files_uses_fused_ranking(indexed: Workspace, project: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "nexus.cli", "search", *args, "--root", str(project)],
                              check=False, capture_output=True, text=True, timeout=60)

    rows = json.loads(run("fetchUser", "--files", "--json").stdout)
    assert rows[0]["path"] == "web/client.ts" and rows[0]["line"] == 1
    assert {"path", "line", "score"} <= rows[0].keys()
    assert all({"bm25", "symbols", "uses"} & r["signals"].keys() for r in rows)
    assert json.loads(run("fetchUser", "--files", "--json", "--lang", "python").stdout) == []
    bad = run("x", "--files", "--lang", "cobol")
    assert bad.returncode == 1 and "unknown language" in bad.stderr
