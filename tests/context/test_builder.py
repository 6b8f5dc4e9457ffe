"""Building contexts from a real index: tiers, budget, dedup, order, bad input, concurrent indexing."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from nexus.engine import NotFoundError, Workspace
from nexus.engine.context import (
    BudgetError,
    ContextError,
    ContextRequest,
    EstimateCounter,
    build_context,
    counter_for,
)
from nexus.engine.context.model import STABILITY


def overlaps(pieces: list) -> list[str]:  # type: ignore[type-arg]
    seen: dict[str, list[tuple[int, int]]] = {}
    bad = []
    for p in pieces:
        if not p.path:
            continue
        for a, b in seen.get(p.path, []):
            if p.start_line <= b and a <= p.end_line:
                bad.append(f"{p.path}:{p.start_line}-{p.end_line}")
        seen.setdefault(p.path, []).append((p.start_line, p.end_line))
    return bad


def test_cursor_definitions_chunks_and_map(indexed: Workspace) -> None:
    request = ContextRequest(query="start the server", path="app/server.py", line=9, budget=4000)
    context = build_context(indexed, request)
    kinds = {p.kind: p for p in context.pieces}
    cursor = kinds["cursor"]
    assert (cursor.path, cursor.start_line, cursor.end_line) == ("app/server.py", 8, 10)
    assert "Server.start" in cursor.reason and "util.log_line('starting')" in cursor.text
    defs = {(p.path, p.start_line) for p in context.pieces if p.kind == "definition"}
    assert ("app/util.py", 0) in defs  # log_line, called at the cursor
    assert ("app/server.py", 12) in defs  # bind, a method of the same class
    assert "<repomap>" in context.text() and kinds["repomap"].path == ""
    assert overlaps(list(context.pieces)) == []
    # Budget: the pieces' counts add up, and the exact count of the whole text stays within it.
    exact = counter_for().count(context.text())
    assert context.exact and context.token_count == sum(p.tokens for p in context.pieces)
    assert exact <= context.budget and abs(exact - context.token_count) <= 2 * len(context.pieces)
    # Most stable first: class order, then path and line.
    keys = [(STABILITY[p.kind], p.path, p.start_line) for p in context.pieces]
    assert keys == sorted(keys)
    receipt = context.receipt()
    assert receipt[0].keys() == {"path", "lines", "kind", "reason", "tokens"}
    assert {"path": "app/server.py", "lines": [9, 11]}.items() <= next(r for r in receipt if r["kind"] == "cursor").items()


def test_deterministic_and_cut_to_budget(indexed: Workspace) -> None:
    request = ContextRequest(query="settings port", path="app/config.py", line=9, budget=300, use_mtime=False)
    first, second = build_context(indexed, request), build_context(indexed, request)
    assert first.text() == second.text() and first.receipt() == second.receipt()
    assert first.token_count <= 300 and counter_for().count(first.text()) <= 300
    assert any(p.kind == "cursor" for p in first.pieces)
    # A budget of one token cannot hold a piece: an empty context, not an error.
    tiny = build_context(indexed, ContextRequest(query="settings", budget=1))
    assert tiny.pieces == () and tiny.token_count == 0
    # A big budget takes whole files and the estimate works as a counter too.
    big = build_context(indexed, ContextRequest(query="settings", budget=50_000, use_mtime=False),
                        counter=EstimateCounter())
    assert not big.exact and big.tokenizer == "estimate"
    assert {p.path for p in big.pieces if p.path} == {f.path for f in indexed.files() if f.size}
    assert overlaps(list(big.pieces)) == []


def test_query_only_and_open_files(indexed: Workspace) -> None:
    context = build_context(indexed, ContextRequest(query="fetchUser", open_files=("native/main.c",),
                                                    budget=2000, use_mtime=False, repo_map=False))
    paths = [p.path for p in context.pieces]
    assert "web/client.ts" in paths and "native/main.c" in paths and "" not in paths
    assert not any(p.kind == "cursor" for p in context.pieces)


def test_request_from_json() -> None:
    request = ContextRequest(query="q", path="a.py", line=3, open_files=("b.py",), budget=900, model="gpt-4o")
    assert ContextRequest.from_json(request.to_json()) == request
    assert ContextRequest.from_json({"query": "x"}) == ContextRequest(query="x")
    for bad, message in (([], "JSON object"), ({"budgte": 5}, "unknown context request field"),
                         ({"budget": "10"}, "budget must be a whole number"), ({"budget": True}, "whole number"),
                         ({"openFiles": "a.py"}, "list of paths"), ({"line": 3}, "needs a path"),
                         ({"query": 5}, "query must be a str")):
        with pytest.raises(ContextError, match=message):
            ContextRequest.from_json(bad)
    with pytest.raises(BudgetError):
        ContextRequest.from_json({"budget": 0})


@pytest.mark.parametrize("budget", [0, -5, 1_000_001, 10**9])
def test_bad_budgets(indexed: Workspace, budget: int) -> None:
    with pytest.raises(BudgetError, match="budget"):
        build_context(indexed, ContextRequest(query="x", budget=budget))


def test_bad_requests(indexed: Workspace, tmp_path: Path, open_ws) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFoundError, match="not in the index"):
        build_context(indexed, ContextRequest(path="app/missing.py", budget=100))
    with pytest.raises(BudgetError, match="whole number"):
        build_context(indexed, ContextRequest(budget=12.5))  # type: ignore[arg-type]
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    with pytest.raises(ContextError, match="not indexed yet"):
        build_context(open_ws(fresh), ContextRequest(query="x"))
    # A cursor past the end of the file is clamped to its last line.
    context = build_context(indexed, ContextRequest(path="app/util.py", line=999, budget=500))
    assert any(p.kind == "cursor" and p.path == "app/util.py" for p in context.pieces)


def test_requests_while_reindexing(indexed: Workspace, project: Path) -> None:
    """Builds during indexing see a committed snapshot: each succeeds, none sees a half-written file."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def churn() -> None:
        try:
            for i in range(30):
                (project / "app/util.py").write_text(f"def log_line(text):\n    return text * {i}\n")
                indexed.update_file("app/util.py", wait=10)
        except BaseException as exc:
            errors.append(exc)
        finally:
            stop.set()

    thread = threading.Thread(target=churn)
    thread.start()
    built = 0
    try:
        while not stop.is_set() or built == 0:
            context = build_context(indexed, ContextRequest(query="log line", path="app/server.py", line=9,
                                                            budget=3000, use_mtime=False))
            texts = [p.text for p in context.pieces if p.path == "app/util.py"]
            # The original version or one of the rewrites, whole: never a mix, never an error.
            assert all(t.startswith("def log_line(text):\n    return text") for t in texts), texts
            built += 1
    finally:
        thread.join()
    assert errors == [] and built >= 1


def test_context_cli(indexed: Workspace, project: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "nexus.cli", "context", *args, "--root", str(project)],
                              check=False, capture_output=True, text=True, timeout=60)

    built = run("build", "--query", "start the server", "--file", "app/server.py", "--line", "10",
                "--budget", "3000", "--json")
    assert built.returncode == 0, built.stderr
    info = json.loads(built.stdout)
    assert info["contextId"].startswith("ctx-") and info["compressed"] is True
    assert 0 < info["tokenCount"] <= 3000 and info["metadata"] == {"type": "code", "source": "request"}
    assert any(r["kind"] == "cursor" and r["lines"] == [9, 11] for r in info["receipt"])

    shown = json.loads(run("show", info["contextId"], "--json").stdout)
    assert shown["tokenCount"] == info["tokenCount"] and len(shown["pieces"]) == info["pieces"]
    streamed = run("stream", info["contextId"], "--chunk-size", "100")
    assert streamed.returncode == 0 and 'path="app/server.py" lines="9-11"' in streamed.stdout
    assert len(streamed.stdout.encode()) == info["bytes"]
    page = json.loads(run("show", info["contextId"], "--page", "0", "--page-size", "2", "--json").stdout)
    assert len(page["pieces"]) == min(2, info["pieces"]) and page["pieces"][0]["text"].startswith("<")

    other = json.loads(run("build", "--query", "fetchUser", "--budget", "2000", "--json").stdout)
    merged = json.loads(run("merge", info["contextId"], other["contextId"], "--budget", "4000", "--json").stdout)
    assert merged["tokenCount"] <= 4000 and merged["metadata"]["source"].startswith("merge:")
    assert run("delete", info["contextId"]).returncode == 0
    gone = run("show", info["contextId"])
    assert gone.returncode == 1 and f"no context {info['contextId']}" in gone.stderr
    assert "not a context id" in run("stream", "ctx-nope").stderr
    assert "at least 1" in run("build", "--budget", "0").stderr
    assert "at most 1,000,000" in run("build", "--budget", "2000000").stderr
    assert "--line needs --file" in run("build", "--line", "3").stderr
    listed = json.loads(run("list", "--json").stdout)
    assert {c["contextId"] for c in listed} == {other["contextId"], merged["contextId"]}
