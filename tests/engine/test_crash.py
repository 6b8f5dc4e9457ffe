"""Crash safety and concurrency: SIGKILL at random moments never leaves LMDB and Tantivy disagreeing,
and a second writer is told who holds the index."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import psutil
import pytest

from nexus.engine import IndexLockedError, Workspace

STDLIB = Path(sysconfig.get_paths()["stdlib"])


def corpus(root: Path, count: int) -> None:
    files = sorted(p for p in STDLIB.glob("*.py"))[:count]
    for path in files:
        shutil.copyfile(path, root / path.name)


def index_command(root: Path) -> list[str]:
    return [sys.executable, "-m", "nexus.cli", "index", str(root), "--json"]


def check_reader_view(root: Path) -> tuple[set[int], set[int], set[int]]:
    """What a reader sees right after a crash, before any repair."""
    with Workspace.open(root) as ws:
        live, searchable = ws.consistency()
        with ws.store.read() as reader:
            staged = reader.staged()
            committed = {info.path: info.file_id for info in reader.files()}
        pending = {i for entry in staged.values() for i in entry.retire}
        pending |= {entry.version.file_id for entry in staged.values() if entry.version is not None}
        # Whatever is committed and not staged has its documents committed; whatever else Tantivy holds
        # is a staged version or one it replaces, whose data LMDB keeps until the next commit.
        assert live - pending <= searchable
        assert searchable - live <= pending
        # No file is lost to readers: its committed version or its staged one is searchable (unless
        # it is staged for removal, which Tantivy may have committed already).
        for path, file_id in committed.items():
            entry = staged.get(path)
            if entry is not None and entry.version is None:
                continue
            versions = {file_id} | ({entry.version.file_id} if entry and entry.version else set())
            assert versions & searchable, f"{path} is not searchable: {file_id}, {entry}"
        for hit in ws.search_symbols("main", 20):
            assert hit.path in committed or hit.path in staged
        return live, searchable, pending


def test_sigkill_at_random_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    corpus(root, 160)
    started = time.perf_counter()
    subprocess.run(index_command(root), check=True, capture_output=True, timeout=300)
    full_run = time.perf_counter() - started  # kill points are spread over a run of this length
    rng = random.Random(20261125)
    kills = interrupted_mid_write = 0
    for round_number in range(8):
        # Every file changes (and one goes, one comes) so each run replaces every version: kills land
        # in walks, parses, LMDB batches, Tantivy adds and commits, and in repairs of earlier kills.
        for path in sorted(root.glob("*.py")):
            with path.open("a") as fh:
                fh.write(f"\ndef added_in_round_{round_number}():\n    pass\n")
        rng.choice(sorted(root.glob("*.py"))).unlink()
        (root / f"new_{round_number}.py").write_text(f"def new_{round_number}():\n    pass\n")
        with subprocess.Popen(index_command(root), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as process:
            time.sleep(rng.uniform(0.15, 0.9) * full_run)  # the random kill point, not a wait for an event
            helpers = psutil.Process(process.pid).children(recursive=True) if process.poll() is None else []
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
            process.wait(timeout=60)
            # Its forkserver and parsing workers go with it rather than waiting forever.
            _gone, alive = psutil.wait_procs(helpers, timeout=20)
            assert alive == [], f"left behind by a killed indexer: {alive}"
        _live, _searchable, pending = check_reader_view(root)
        interrupted_mid_write += bool(pending)
    assert kills >= 4, "the index runs finished before they could be killed"
    assert interrupted_mid_write >= 1, "no kill landed between staging and the Tantivy commit"

    finished = subprocess.run(index_command(root), capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    with Workspace.open(root) as ws:
        live, searchable = ws.consistency()
        assert live == searchable
        assert not ws.status().pending
        repaired = {(f.path, f.content_hash, f.symbols) for f in ws.files()}
    # The repaired index holds exactly what a clean index of the same files holds.
    fresh_cache = tmp_path / "fresh-cache"
    clean = subprocess.run(index_command(root), capture_output=True, text=True, timeout=300,
                           env={**os.environ, "NEXUS_CACHE_DIR": str(fresh_cache)})
    assert clean.returncode == 0, clean.stderr
    monkeypatch.setenv("NEXUS_CACHE_DIR", str(fresh_cache))
    with Workspace.open(root) as ws:
        assert {(f.path, f.content_hash, f.symbols) for f in ws.files()} == repaired


HOLDER = """
import sys
from nexus.engine import Workspace
ws = Workspace.open(sys.argv[1])
ws.lock.acquire()
print("locked", flush=True)
sys.stdin.readline()
"""


def test_second_writer_is_told_who_holds_the_index(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def alpha():\n    pass\n")
    with Workspace.open(tmp_path) as ws:
        ws.index()
    with subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as holder:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with Workspace.open(tmp_path) as ws:
            with pytest.raises(IndexLockedError, match=f"being updated by PID {holder.pid}") as caught:
                ws.index()
            assert caught.value.pid == holder.pid
            # Readers are not blocked by the writer.
            assert [h.name for h in ws.search_symbols("alpha", 1)] == ["alpha"]
            cli = subprocess.run(index_command(tmp_path), capture_output=True, text=True, timeout=60)
            assert cli.returncode == 1 and f"PID {holder.pid}" in cli.stderr
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=30)
    with Workspace.open(tmp_path) as ws:  # the lock died with its holder
        assert ws.index().unchanged == 1


def test_lock_released_when_holder_is_killed(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    with subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as holder:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        holder.kill()
        holder.wait(timeout=30)
    with Workspace.open(tmp_path) as ws:
        assert ws.index().parsed == 1
