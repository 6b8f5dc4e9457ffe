"""Bad input never crashes the indexer: each case gets a clear reason and loses nothing else."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from nexus.engine import Progress, Workspace, WorkspaceError

from .conftest import write

Opener = Callable[[Path], Workspace]
GOOD = {"good.py": "def still_here():\n    return 1\n"}


def reasons(summary) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {s.path: s.reason for s in summary.skipped}


def assert_good_survives(ws: Workspace) -> None:
    assert [h.name for h in ws.search_symbols("still_here", 1)] == ["still_here"]
    live, searchable = ws.consistency()
    assert live == searchable


def test_binary_file(tmp_path: Path, open_ws: Opener) -> None:
    write(tmp_path, {**GOOD, "blob.py": b"\x00\x01\x02binary\x00" * 100})
    ws = open_ws(tmp_path)
    summary = ws.index()
    assert reasons(summary) == {"blob.py": "binary file"}
    assert_good_survives(ws)
    # Unchanged since, it is not read again, yet still reported.
    assert reasons(ws.index()) == {"blob.py": "binary file"}


def test_invalid_utf8_is_indexed_with_replacement(tmp_path: Path, open_ws: Opener) -> None:
    write(tmp_path, {**GOOD, "latin.py": "# caf\xe9 \xff\xfe\ndef latin_func():\n    return 'na\xefve'\n".encode("latin-1")})
    ws = open_ws(tmp_path)
    summary = ws.index()
    assert summary.skipped == []
    assert [(n.path, n.reason) for n in summary.notes] == [
        ("latin.py", "invalid UTF-8, indexed with replacement characters")]
    assert ws.text("latin.py").startswith("# caf\ufffd \ufffd\ufffd\ndef latin_func")
    assert [s.name for s in ws.symbols("latin.py")] == ["latin_func"]
    assert_good_survives(ws)


def test_fifty_megabyte_generated_file(tmp_path: Path, open_ws: Opener) -> None:
    write(tmp_path, GOOD)
    with open(tmp_path / "generated_tables.py", "w") as fh:
        line = "TABLE_ENTRY = [" + ", ".join(str(i) for i in range(40)) + "]\n"
        fh.writelines(line for _ in range(50_000_000 // len(line) + 1))
    ws = open_ws(tmp_path)
    summary = ws.index()
    assert reasons(summary) == {"generated_tables.py": "too large (50.0 MB > 2.0 MB limit)"}
    assert_good_survives(ws)


def test_minified_one_line_javascript(tmp_path: Path, open_ws: Opener) -> None:
    bundle = "!function(){" + ";".join(f"var a{i}=function(b){{return b*{i}}}" for i in range(8000)) + "}();"
    write(tmp_path, {**GOOD, "dist-bundle.min.js": bundle})
    ws = open_ws(tmp_path)
    summary = ws.index()
    [(path, reason)] = reasons(summary).items()
    assert path == "dist-bundle.min.js" and reason.startswith("minified or generated (average line of")
    assert_good_survives(ws)


def test_symlink_loops_and_links_out(tmp_path: Path, open_ws: Opener) -> None:
    root = tmp_path / "ws"
    write(root, {**GOOD, "pkg/mod.py": "def in_pkg(): pass\n"})
    outside = tmp_path / "outside"
    write(outside, {"secret.py": "def secret(): pass\n"})
    os.symlink(root, root / "pkg" / "loop")  # pkg/loop -> the workspace itself
    os.symlink(outside, root / "escape")
    os.symlink(outside / "secret.py", root / "secret_link.py")
    os.symlink(root / "nowhere.py", root / "dangling.py")
    ws = open_ws(root)
    summary = ws.index()
    assert reasons(summary) == {
        "dangling.py": "broken symlink",
        "escape": "symlink to a folder outside the workspace",
        "pkg/loop": "symlink loop (folder already visited)",
        "secret_link.py": "symlink to a file outside the workspace",
    }
    assert sorted(f.path for f in ws.files()) == ["good.py", "pkg/mod.py"]
    assert ws.search_symbols("secret", 5) == []
    assert_good_survives(ws)


def test_unreadable_file(tmp_path: Path) -> None:
    # Permissions do not stop root, so as root the indexer runs as `nobody` in a world-readable folder.
    base = Path(tempfile.mkdtemp(prefix="nexus-unreadable-"))
    try:
        os.chmod(base, 0o777)
        root = base / "ws"
        write(root, {**GOOD, "locked.py": "def locked(): pass\n", "locked_dir/inner.py": "def inner(): pass\n"})
        for path in [root, *root.rglob("*")]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        os.chmod(root / "locked.py", 0o000)
        os.chmod(root / "locked_dir", 0o000)
        cache = base / "cache"
        cache.mkdir(mode=0o777)
        os.chmod(cache, 0o777)
        command = [sys.executable, "-m", "nexus.cli", "index", str(root), "--json"]
        if os.geteuid() == 0:
            setpriv = shutil.which("setpriv")
            if setpriv is None:
                pytest.skip("running as root without setpriv: cannot drop privileges to test permissions")
            command = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *command]
        env = {**os.environ, "NEXUS_CACHE_DIR": str(cache), "NEXUS_CONFIG_DIR": str(cache / "config"),
               "HOME": str(base)}
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, cwd=base)
        assert done.returncode == 0, done.stderr
        import json

        summary = json.loads(done.stdout)
        skipped = {s["path"]: s["reason"] for s in summary["skipped"]}
        assert skipped == {"locked.py": "unreadable: Permission denied",
                           "locked_dir": "folder not readable: Permission denied"}
        assert summary["files"] == 1
    finally:
        for path in [base, *base.rglob("*")]:
            try:
                os.chmod(path, 0o755)
            except OSError:
                pass
        shutil.rmtree(base, ignore_errors=True)


def test_files_deleted_or_changed_while_indexing(tmp_path: Path, open_ws: Opener) -> None:
    # Enough files for several batches, so the progress callback runs between reads.
    write(tmp_path, {f"m{i:03}.py": f"def f{i}():\n    return {i}\n" for i in range(200)})
    write(tmp_path, GOOD)
    ws = open_ws(tmp_path)
    acted = []

    def meddle(event: Progress) -> None:
        if event.phase == "indexing" and not acted:
            acted.append(event.path)
            (tmp_path / "m199.py").unlink()
            (tmp_path / "m198.py").write_text("def changed_midway():\n    pass\n")

    summary = ws.index(progress=meddle)
    assert acted, "indexing never reported progress between batches"
    assert reasons(summary) == {"m199.py": "deleted during indexing"}
    assert [h.name for h in ws.search_symbols("changed_midway", 1)] == ["changed_midway"]
    assert ws.file_info("m199.py") is None
    assert_good_survives(ws)
    # The next run has nothing left to say about the deleted file.
    again = ws.index()
    assert again.skipped == [] and again.parsed == 0


def test_odd_characters_in_paths(tmp_path: Path, open_ws: Opener) -> None:
    odd = ["with space.py", "caf\u00e9/\u65e5\u672c\u8a9e.py", "brackets[1] (copy).py", "quote'and\"dq.py",
           "-leading-dash.py", "#hash%percent.py"]
    write(tmp_path, {**GOOD, **{name: f"def odd_{i}():\n    pass\n" for i, name in enumerate(odd)}})
    raw_name = os.fsdecode(b"bad-\xff-bytes.py")
    (tmp_path / raw_name).write_text("def odd_bytes():\n    pass\n")
    ws = open_ws(tmp_path)
    summary = ws.index()
    assert summary.skipped == [] and summary.files == len(odd) + 2
    for i, name in enumerate(odd):
        assert [(h.path, h.name) for h in ws.search_symbols(f"odd_{i}", 1)] == [(name, f"odd_{i}")]
    assert ws.search_symbols("odd_bytes", 1)[0].path == raw_name
    assert ws.symbols(raw_name)[0].name == "odd_bytes"
    (tmp_path / odd[0]).unlink()
    assert ws.index().removed == 1
    assert_good_survives(ws)


def test_empty_workspace(tmp_path: Path, open_ws: Opener) -> None:
    ws = open_ws(tmp_path)
    summary = ws.index()
    assert (summary.files, summary.symbols, summary.skipped) == (0, 0, [])
    assert ws.search_symbols("anything", 5) == [] and ws.search_text("anything", 5) == []
    assert ws.status().indexed


def test_path_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="does not exist"):
        Workspace.open(tmp_path / "missing")
    (tmp_path / "file.py").write_text("x = 1\n")
    with pytest.raises(WorkspaceError, match="is not a folder"):
        Workspace.open(tmp_path / "file.py")
