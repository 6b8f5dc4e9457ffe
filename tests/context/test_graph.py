"""The code graph over a real index: calls, imports, incremental sync, PageRank, repo map, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from array import array
from pathlib import Path
from typing import Any

import pytest
from msgpack import packb, unpackb

from nexus.engine import NotFoundError, Workspace
from nexus.engine.context import counter_for
from nexus.engine.graph import CodeGraph, GraphStore, sync
from nexus.engine.graph import store as graph_store
from nexus.engine.graph.facts import facts_of
from nexus.engine.graph.repomap import build_repo_map
from nexus.engine.parsing.chunks import line_starts_of


def callers(graph: CodeGraph, symbol: str) -> list[tuple[str, int, str]]:
    return [(e.path, e.line, e.caller) for e in graph.callers(symbol)]


def callees(graph: CodeGraph, symbol: str) -> dict[str, list[str]]:
    return {e.callee: [t.path for t in e.targets] for e in graph.callees(symbol)}


def test_calls_and_imports_in_five_languages(indexed: Workspace) -> None:
    # The index run stored every file's facts in the graph; the edges wait for the first ranking use.
    assert set(GraphStore.for_workspace(indexed).paths()) == {f.path for f in indexed.files()}
    summary = sync(indexed)
    assert (summary.added, summary.removed, summary.edges_recomputed) == (0, 0, len(indexed.files()))
    graph = CodeGraph(indexed)

    assert callers(graph, "get_config") == [("app/server.py", 6, "Server.__init__")]
    assert callees(graph, "get_config") == {"load_settings": ["app/config.py"]}
    assert callees(graph, "Server.start") == {"log_line": ["app/util.py"], "bind": ["app/server.py"]}
    assert callers(graph, "Server") == [("app/cli.py", 4, "main")]
    assert callers(graph, "request") == [("web/client.ts", 3, "fetchUser")]
    assert callers(graph, "greet") == [("java/com/acme/Main.java", 6, "Main.main")]
    assert callers(graph, "square") == [("native/main.c", 3, "main")]
    assert [d.path for d in graph.definitions("app/server.py:Server.bind")] == ["app/server.py"]
    assert graph.definitions("Nope.start") == []
    with pytest.raises(NotFoundError, match="no definition"):
        graph.callers("does_not_exist")

    targets = {(e.module, e.target) for e in graph.imports("app/server.py")}
    assert targets == {(".config", "app/config.py"), (".", "app/util.py")}
    assert [(e.module, e.target) for e in graph.imports("app/cli.py")] == [("app.server", "app/server.py")]
    assert [(e.module, e.target) for e in graph.imports("web/client.ts")] == [("./api", "web/api.ts")]
    assert [e.target for e in graph.imports("java/com/acme/Main.java")] == ["java/com/acme/Greeter.java"]
    assert [e.target for e in graph.imports("native/main.c")] == ["native/math.h"]
    assert [e.path for e in graph.importers("native/math.h")] == ["native/main.c", "native/math.c"]
    assert [e.path for e in graph.importers("app/config.py")] == ["app/server.py"]
    with pytest.raises(NotFoundError):
        graph.imports("missing.py")

    assert graph.neighbours("app/server.py", 1).keys() >= {"app/config.py", "app/util.py", "app/cli.py"}
    two = graph.neighbours("app/cli.py", 2)
    assert two["app/server.py"] == 1 and two["app/config.py"] == 2
    deps = dict(graph.dependencies("app/server.py"))
    assert deps["app/config.py"] > 0 and deps["app/util.py"] > 0


def test_sync_is_incremental(indexed: Workspace, project: Path) -> None:
    store = GraphStore.for_workspace(indexed)
    sync(indexed)
    assert sync(indexed).added == 0  # nothing changed: nothing done

    # An edit that keeps the same definitions touches that file's edges only.
    (project / "app/util.py").write_text("def log_line(text):\n    return text.lower()\n")
    info = indexed.update_file("app/util.py")
    facts = store.facts("app/util.py")  # in the graph when update_file returns
    assert info is not None and facts is not None and facts.file_id == info.file_id
    summary = sync(indexed)
    assert (summary.added, summary.removed, summary.edges_recomputed) == (0, 0, 1)

    # A new definition of a name others use: their edges are recomputed and now point at it too.
    (project / "app/extra.py").write_text("def bind(port):\n    return port + 1\n")
    ran = indexed.index()  # the index run brings the graph's facts along; edges wait for a ranking query
    assert ran.graph == {"added": 1, "removed": 0}
    summary = sync(indexed)
    assert summary.added == 0 and summary.edges_recomputed >= 2
    graph = CodeGraph(indexed)
    assert "app/extra.py" in {t.path for e in graph.callers("bind") for t in e.targets}

    # A call added by an edit shows up; a removed file's importers lose their target.
    (project / "app/cli.py").write_text("from app.server import Server\nfrom app.util import log_line\n\n\n"
                                        "def main():\n    log_line('x')\n    return Server().start()\n")
    indexed.update_file("app/cli.py")
    assert ("app/cli.py", 5, "main") in callers(graph, "log_line")
    indexed.remove_file("app/config.py")
    assert [e.target for e in graph.imports("app/server.py") if e.module == ".config"] == [None]
    assert store.facts("app/config.py") is None
    assert store.generation >= 4


def test_personalised_pagerank_follows_the_request(indexed: Workspace) -> None:
    graph = CodeGraph(indexed).file_graph()
    plain = dict(graph.ranked())
    assert sum(plain.values()) == pytest.approx(1.0)
    # config.py is depended on (directly and through server.py); cli.py depends on others only.
    assert plain["app/config.py"] > plain["app/cli.py"]
    around_web = [p for p, _ in graph.ranked({"web/client.ts": 1.0}, 2)]
    assert around_web == ["web/client.ts", "web/api.ts"]
    assert graph.ranked({"web/client.ts": 1.0}) == graph.ranked({"web/client.ts": 1.0})


def test_repo_map_is_ranked_and_cut_to_budget(indexed: Workspace) -> None:
    counter = counter_for()
    graph = CodeGraph(indexed)
    full = build_repo_map(indexed, graph, {"app/server.py": 1.0}, 10_000, counter.count)
    assert full.files[0][0] == "app/server.py"
    assert "     5│ class Server" in full.text and "     9│     def start(self)" in full.text
    assert counter.count(full.text) <= full.tokens + len(full.files)  # counted per block
    small = build_repo_map(indexed, graph, {"app/server.py": 1.0}, 60, counter.count)
    assert 0 < small.tokens <= 60 and len(small.files) < len(full.files)
    assert build_repo_map(indexed, graph, {}, 0, counter.count).text == ""


def test_graph_cli(indexed: Workspace, project: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "nexus.cli", "graph", *args, "--root", str(project)],
                              check=False, capture_output=True, text=True, timeout=60)

    found = json.loads(run("get_config", "--json").stdout)
    assert found["definitions"][0]["path"] == "app/config.py" and found["definitions"][0]["line"] == 9
    assert [(c["path"], c["line"]) for c in found["callers"]] == [("app/server.py", 7)]
    assert [c["callee"] for c in found["callees"]] == ["load_settings"]
    only = json.loads(run("Server.start", "--callees", "--json").stdout)
    assert "callers" not in only and {c["callee"] for c in only["callees"]} == {"log_line", "bind"}
    imports = json.loads(run("app/server.py", "--imports", "--json").stdout)
    assert {i["target"] for i in imports["files"][0]["imports"]} == {"app/config.py", "app/util.py"}
    assert [i["path"] for i in imports["files"][0]["importers"]] == ["app/cli.py"]
    text = run("get_config")
    assert text.returncode == 0 and "Server.__init__" in text.stdout
    missing = run("nothing_here")
    assert missing.returncode == 1 and "no definition of 'nothing_here'" in missing.stderr


def _tables(store: GraphStore) -> dict[str, list[tuple[bytes, bytes]]]:
    out = {}
    for name in ("files", "facts", "defs", "uses", "calls", "imps", "edges", "dirty"):
        with store.env.begin(db=store.db[name]) as txn:
            out[name] = [(bytes(k), bytes(v)) for k, v in txn.cursor()]
    return out


def test_the_facts_workers_make_are_the_facts_the_index_implies(indexed: Workspace) -> None:
    """The record a parsing worker stores is what the graph would derive from the file's index data."""
    with indexed.store.read() as reader:
        infos = list(reader.files())
        assert infos
        for info in infos:
            stored = reader.raw_facts(info.file_id)
            names, packed = reader.raw_refs(info.file_id)
            triples = array("I")
            triples.frombytes(packed)
            content = reader.content(info.file_id) or b""
            derived = facts_of(info.path, info.file_id, info.language, reader.raw_symbols(info.file_id),
                               line_starts_of(content), names, triples,
                               [(i.module, i.names, i.alias, i.line) for i in reader.imports(info.file_id)])
            assert stored == unpackb(packb(derived.to_record())), info.path
    assert any(stored[4] for info in infos if (stored := _facts(indexed, info.file_id)))  # some calls


def _facts(ws: Workspace, file_id: int) -> list[Any] | None:
    with ws.store.read() as reader:
        return reader.raw_facts(file_id)


def test_an_interrupted_sync_resumes_where_it_stopped(indexed: Workspace, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graph_store, "SYNC_BATCH", 2)  # 12 files: six transactions of facts
    complete = GraphStore.for_workspace(indexed)
    sync(indexed)  # facts (from the index run) and every edge
    second = GraphStore(tmp_path / "second-graph")
    seen: list[tuple[str, int]] = []

    def stop_after_two_batches(phase: str, done: int, total: int) -> None:
        seen.append((phase, done))
        if len(seen) == 2:
            raise KeyboardInterrupt  # what Ctrl-C (or a kill between transactions) leaves

    with pytest.raises(KeyboardInterrupt):
        second.sync(indexed, stop_after_two_batches)
    assert len(second.paths()) == 4 and not second.is_current(indexed)
    resumed: list[tuple[str, int]] = []
    summary = second.sync(indexed, lambda phase, done, total: resumed.append((phase, done)))
    assert summary.added == len(indexed.files()) - 4  # the four files already in were not redone
    assert resumed[-1][0] == "graph edges" and second.is_current(indexed)
    assert _tables(second) == _tables(complete)
    second.env.close()
