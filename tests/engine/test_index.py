"""Indexing a real workspace into LMDB + Tantivy on disk, searching it, and keeping it current."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from nexus.engine import Workspace, WorkspaceError
from nexus.engine.store import lmdb_store

from .conftest import notebook, write

Opener = Callable[[Path], Workspace]


def names(hits: list) -> list[str]:  # type: ignore[type-arg]
    return [h.name for h in hits]


def test_index_counts_and_search(project: Path, open_ws: Opener) -> None:
    ws = open_ws(project)
    summary = ws.index()
    assert summary.files_by_language == {"python": 3, "typescript": 2, "javascript": 2, "java": 2, "cpp": 2, "c": 1}
    assert summary.parsed == summary.files == 12
    assert summary.symbols == sum(len(ws.symbols(f.path)) for f in ws.files())
    assert summary.skipped == []
    live, searchable = ws.consistency()
    assert live == searchable and len(live) == 12

    for query in ("get_config", "gCo", "get_cfg", "get_confg", "getConfig"):
        assert names(ws.search_symbols(query, 3))[0] == "get_config", query
    hit = ws.search_symbols("fetchUser", 1)[0]
    assert (hit.path, hit.line, hit.col, hit.kind, hit.language) == ("web/client.ts", 0, 16, "function", "typescript")
    assert names(ws.search_symbols("Server", 5, kinds=("class",))) == ["Server"]
    assert ws.search_symbols("debounce", 5, languages=("python",)) == []
    assert names(ws.search_symbols("debounce", 5, languages=("js",))) == ["debounce"]

    text = ws.search_text("read one setting", 5)
    assert text[0].path == "app/config.py" and text[0].line == 0
    assert ws.search_text("square", 5, languages=("cpp",))[0].path == "src/math.cpp"
    # User text full of query-language syntax must not raise.
    assert isinstance(ws.search_text('open(path) AND "foo', 5), list)
    with pytest.raises(WorkspaceError, match="unknown language"):
        ws.search_symbols("x", 5, languages=("cobol",))


def test_definitions_and_references(project: Path, open_ws: Opener) -> None:
    ws = open_ws(project)
    ws.index()
    [(path, symbol)] = ws.definitions("get_config")
    assert path == "app/config.py" and symbol.kind == "function" and symbol.doc == "Read one setting."
    refs = ws.references("get_config")
    assert [(p, r.line, r.start_col) for p, r in refs] == [
        ("app/config.py", 0, 4), ("app/main.py", 0, 20), ("app/main.py", 4, 15)]
    assert [(r.line, r.start_col, r.end_col) for r in ws.references_in("app/main.py", "get_config")] == [
        (0, 20, 30), (4, 15, 25)]


def test_incremental_updates_touch_only_changes(project: Path, open_ws: Opener) -> None:
    ws = open_ws(project)
    ws.index()
    again = ws.index()
    assert (again.parsed, again.unchanged, again.removed) == (0, 12, 0)

    (project / "app/config.py").write_text("def get_settings():\n    return 1\n")
    (project / "web/util.js").unlink()
    write(project, {"app/extra.py": "def brand_new_function():\n    pass\n"})
    touched = project / "src/math.cpp"
    os.utime(touched, ns=(time.time_ns(), time.time_ns() + 10**9))  # mtime moves, content does not
    summary = ws.index()
    assert (summary.parsed, summary.removed, summary.files) == (2, 1, 12)
    assert summary.unchanged == 10  # including the touched file, hashed but not parsed
    assert names(ws.search_symbols("brand_new_function", 1)) == ["brand_new_function"]
    assert ws.search_symbols("debounce", 5) == []
    assert ws.definitions("get_config") == []
    assert ws.file_info("web/util.js") is None
    live, searchable = ws.consistency()
    assert live == searchable


def test_update_from_unsaved_buffer(project: Path, open_ws: Opener) -> None:
    ws = open_ws(project)
    ws.index()
    info = ws.update_file("app/main.py", "class Server:\n    def stop_everything(self):\n        pass\n")
    assert info is not None and info.symbols == 2
    assert names(ws.search_symbols("stop_everything", 1)) == ["stop_everything"]
    assert ws.search_symbols("start", 5, kinds=("method",)) == []
    # Back to what is on disk: the saved file wins again.
    ws.update_file(str(project / "app/main.py"))
    assert names(ws.search_symbols("start", 1, kinds=("method",))) == ["start"]
    assert ws.search_symbols("stop_everything", 5) == []
    assert ws.consistency()[0] == ws.consistency()[1]
    with pytest.raises(WorkspaceError, match="outside the workspace"):
        ws.update_file("/etc/passwd.py", "x = 1")


def test_ignore_rules(tmp_path: Path, open_ws: Opener) -> None:
    write(tmp_path, {
        ".gitignore": "generated/\n*.gen.py\n!keep.gen.py\n",
        ".nexusignore": "vendor/\n",
        "a.py": "def a(): pass\n",
        "generated/b.py": "def b(): pass\n",
        "x.gen.py": "def x(): pass\n",
        "keep.gen.py": "def keep(): pass\n",
        "vendor/v.py": "def v(): pass\n",
        "node_modules/pkg/index.js": "function nm() {}\n",
        "env/pyvenv.cfg": "home = /usr\n",
        "env/lib/site.py": "def venv_file(): pass\n",
        "sub/.gitignore": "local.py\n",
        "sub/local.py": "def local(): pass\n",
        "sub/other.py": "def other(): pass\n",
        "README.md": "not code\n",
    })
    ws = open_ws(tmp_path)
    ws.index()
    assert sorted(f.path for f in ws.files()) == ["a.py", "keep.gen.py", "sub/other.py"]


def test_notebook_cells(tmp_path: Path, open_ws: Opener) -> None:
    write(tmp_path, {"analysis.ipynb": notebook(
        ("markdown", "# Title"), ("code", "import pandas as pd\n%matplotlib inline"),
        ("code", "def summarise(frame):\n    return frame.describe()"))})
    ws = open_ws(tmp_path)
    ws.index()
    info = ws.file_info("analysis.ipynb")
    assert info is not None and info.language == "python"
    assert [(c.cell, c.start_line, c.line_count) for c in info.cells] == [(1, 0, 2), (2, 2, 2)]
    hit = ws.search_symbols("summarise", 1)[0]
    assert (hit.path, hit.line) == ("analysis.ipynb", 2)
    from nexus.engine.parsing.notebook import cell_position

    assert cell_position(info.cells, hit.line) == (2, 0)
    assert ws.imports("analysis.ipynb")[0].module == "pandas"


def test_schema_change_rebuilds(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Workspace.open(project) as ws:
        ws.index()
    monkeypatch.setattr(lmdb_store, "SCHEMA_VERSION", lmdb_store.SCHEMA_VERSION + 1)
    with Workspace.open(project) as ws:
        assert "rebuilding" in ws.rebuilt_reason
        assert ws.files() == []
        summary = ws.index()
        assert summary.parsed == 12 and "rebuilding" in summary.rebuilt
        assert ws.status().schema_version == lmdb_store.SCHEMA_VERSION


def test_status(project: Path, open_ws: Opener) -> None:
    ws = open_ws(project)
    assert not ws.status().indexed
    ws.index()
    state = ws.status()
    assert state.indexed and state.files == 12 and state.size_on_disk > 0 and state.pending == 0
    assert state.last_run is not None and state.last_run["parsed"] == 12


def test_in_workspace_index_folder(project: Path) -> None:
    write(project, {".nexus.toml": "[index]\nin_workspace = true\n"})
    with Workspace.open(project) as ws:
        ws.index()
        assert ws.index_dir == project / ".nexus" / "index"
        assert (project / ".nexus" / "index" / "lmdb" / "data.mdb").exists()
        assert all(not f.path.startswith(".nexus") for f in ws.files())


def test_update_file_honours_ignore_rules(tmp_path: Path, open_ws: Opener) -> None:
    write(tmp_path, {".gitignore": "gen/\n", "a.py": "def a(): pass\n"})
    ws = open_ws(tmp_path)
    ws.index()
    for rel in ("node_modules/pkg/x.py", "gen/out.py", ".venv/lib/y.py", ".git/hooks/z.py"):
        write(tmp_path, {rel: "def hidden(): pass\n"})
        assert ws.update_file(rel) is None, rel
        assert ws.update_file(rel, "def hidden_buffer(): pass\n") is None, rel
    assert ws.search_symbols("hidden", 5) == []
    assert ws.update_file("b.py", "def shown(): pass\n") is not None
