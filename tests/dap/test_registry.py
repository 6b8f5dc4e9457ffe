"""The session registry: how `nexus dap` finds kernel sessions that other processes own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nexus.kernels.debug import DebugConfigError, NoSuchDebugTargetError, SessionRegistry


def advertise_from_a_process_that_exits(folder: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from nexus.kernels.debug import SessionRegistry; "
        "SessionRegistry(Path(sys.argv[1])).advertise('gone', 'k-gone', 'python', '/gone.json')"
    )
    subprocess.run([sys.executable, "-c", code, str(folder)], check=True, timeout=60)


def test_advertise_list_withdraw(tmp_path: Path) -> None:
    registry = SessionRegistry(tmp_path / "sessions")
    entry = registry.advertise("doc-1", "k1", "python", "/run/k1.json")
    assert (tmp_path / "sessions").stat().st_mode & 0o777 == 0o700
    assert registry.entries() == [entry]
    assert registry.find(session_id="doc-1") == entry
    assert registry.find() == entry  # the only one
    assert registry.find(kernel_id="k1") == entry
    registry.withdraw("k1")
    assert registry.entries() == []


def test_entries_of_dead_processes_are_dropped_and_deleted(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    registry = SessionRegistry(folder)
    advertise_from_a_process_that_exits(folder)
    assert len(list(folder.glob("*.json"))) == 1
    live = registry.advertise("alive", "k2", "python", "/run/k2.json")
    assert registry.entries() == [live]
    assert [p.name for p in folder.glob("*.json")] == [f"{os.getpid()}-k2.json"]
    with pytest.raises(NoSuchDebugTargetError, match=r"no running kernel session 'gone' .*running sessions: alive"):
        registry.find(session_id="gone")


def test_a_recycled_pid_does_not_make_an_entry_live(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    registry = SessionRegistry(folder)
    entry = registry.advertise("old", "k3", "python", "/run/k3.json")
    path = folder / f"{os.getpid()}-k3.json"
    data = json.loads(path.read_text())
    data["ownerStarted"] = entry.owner_started - 3600  # an earlier process that had this pid
    path.write_text(json.dumps(data))
    assert registry.entries() == []
    assert not path.exists()


def test_ambiguous_and_unreadable_entries(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "sessions"
    registry = SessionRegistry(folder)
    registry.advertise("same", "ka", "python", "/run/ka.json")
    registry.advertise("same", "kb", "python", "/run/kb.json")
    (folder / "broken.json").write_text("{not json")
    with pytest.raises(DebugConfigError, match="several processes have a kernel session 'same'; name the kernel"):
        registry.find(session_id="same")
    with pytest.raises(DebugConfigError, match="several kernel sessions are running; name one"):
        registry.find()
    assert registry.find(kernel_id="kb").kernel_id == "kb"
    assert "ignoring unreadable session entry" in caplog.text
    assert (folder / "broken.json").exists()  # not ours to delete


def test_list_sessions_command(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    SessionRegistry(folder).advertise("doc-9", "k9", "python", "/run/k9.json")
    proc = subprocess.run(
        [sys.executable, "-m", "nexus.cli", "dap", "--list-sessions"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "NEXUS_SESSIONS_DIR": str(folder)},
    )
    assert proc.returncode == 0, proc.stderr
    listed = json.loads(proc.stdout)
    assert [(s["sessionId"], s["kernelId"], s["connectionFile"]) for s in listed] == [("doc-9", "k9", "/run/k9.json")]
