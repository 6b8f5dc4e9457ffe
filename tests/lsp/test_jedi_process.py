"""The jedi worker process on its own: real processes, no server. Interruption past the hard limit, a
worker killed mid-job (the job fails with a clear error, the next one gets a new worker), superseded
and abandoned jobs."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from nexus.engine.errors import UnavailableError
from nexus.engine.jedi_process import JediProcess, JobInterrupted
from nexus.engine.python_semantics import PythonSemantics


@pytest.fixture
def process() -> JediProcess:
    found = JediProcess(hard_limit=0.5)
    yield found  # type: ignore[misc]
    found.close()


def wait_running(process: JediProcess, op: str) -> None:
    while process.running() != op:
        time.sleep(0.01)  # bounded by pytest-timeout


def test_hard_limit_interrupts_and_the_worker_goes_on(process: JediProcess) -> None:
    with pytest.raises(JobInterrupted, match="over the 0.5 s limit"):
        process.submit("sleep", 600.0).result()
    pid = process.status()["pid"]
    assert process.submit("ping").result() == pid  # same worker, still serving
    assert process.status()["recent"][-2].startswith("sleep:interrupted (over the")


def test_killed_worker_fails_the_job_and_restarts(process: JediProcess) -> None:
    process.hard_limit = 600
    first = process.submit("ping").result()
    running = process.submit("sleep", 600.0)
    wait_running(process, "sleep")
    os.kill(first, signal.SIGKILL)
    with pytest.raises(UnavailableError, match="jedi worker stopped during sleep"):
        running.result()
    second = process.submit("ping").result()
    assert second != first and process.status()["restarts"] == 1


def test_newer_request_interrupts_an_abandoned_job_only(process: JediProcess) -> None:
    process.hard_limit = 600
    kept = process.submit("sleep", 0.3)
    wait_running(process, "sleep")
    assert process.submit("ping").result() == process.status()["pid"]  # waited: kept was not abandoned
    assert kept.result() == 0.3
    abandoned = process.submit("sleep", 600.0)
    wait_running(process, "sleep")
    process.abandon(abandoned)
    assert process.submit("ping").result() == process.status()["pid"]
    with pytest.raises(JobInterrupted, match="superseded"):
        abandoned.result()


def test_same_key_drops_the_queued_job(process: JediProcess) -> None:
    process.hard_limit = 600
    blocker = process.submit("sleep", 0.3)
    wait_running(process, "sleep")
    older = process.submit("ping", key="k")
    newer = process.submit("ping", key="k")
    assert older.cancelled() and newer.result() > 0 and blocker.result() == 0.3


def test_semantics_share_a_worker_and_report_jedi_errors(tmp_path: Path) -> None:
    process = JediProcess()
    try:
        (tmp_path / "mod.py").write_text("def area(r):\n    return r * r\n", encoding="utf-8")
        semantics = PythonSemantics(tmp_path, process=process)
        text = "from mod import area\narea(2)\nare"
        names = semantics.goto(str(tmp_path / "main.py"), text, 1, 1, "definition").result()
        assert [(Path(n.path or "").name, n.line, n.col, n.end_col) for n in names] == [("mod.py", 0, 4, 8)]
        found = semantics.complete(str(tmp_path / "main.py"), text, 2, 3).result()
        assert [c.name for c in found][:1] == ["area"]
        with pytest.raises(Exception, match="past the end"):
            semantics.goto(str(tmp_path / "main.py"), text, 40, 0, "definition").result()
        semantics.close()  # shared: the worker stays
        assert process.submit("ping").result() == process.status()["pid"]
    finally:
        process.close()


def test_a_truncated_parso_cache_file_is_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # parso used to write its cache pickles in place: one cut short (by a crash, an interrupt, another
    # process reading meanwhile) then failed every later load. The worker writes them whole, and reads
    # a bad one as a cache miss.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    project = tmp_path / "project"
    project.mkdir()
    (project / "mod.py").write_text("def area(r):\n    return r * r\n", encoding="utf-8")
    text = "from mod import area\narea(2)\n"

    def goto() -> list[tuple[str, int]]:
        process = JediProcess()
        try:
            semantics = PythonSemantics(project, process=process)
            names = semantics.goto(str(project / "main.py"), text, 1, 1, "definition").result()
            return [(Path(n.path or "").name, n.line) for n in names]
        finally:
            process.close()

    assert goto() == [("mod.py", 0)]
    pickles = list((tmp_path / "cache").rglob("*.pkl"))  # jedi's cache folder, file names hashed
    assert pickles and not list((tmp_path / "cache").rglob(".nexus-*.tmp"))
    for pickle_file in pickles:
        pickle_file.write_bytes(pickle_file.read_bytes()[:10])
    assert goto() == [("mod.py", 0)]
    assert all(len(p.read_bytes()) > 10 for p in (tmp_path / "cache").rglob("*.pkl"))  # written again
