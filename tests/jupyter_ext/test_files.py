"""``POST execute`` with a ``path`` through a real jupyter-server: a workspace file runs as a program of
its own in the sandbox (per language: sibling import, relative read, arguments, exit code, errors at
the file's lines), and nothing is built into the workspace, by a file run or by a notebook's C++ kernel."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from nexus.kernels.languages import LANGUAGES
from tests.support.programs import CASES, first_line, line_of, need_tools, project, snapshot

from .conftest import Fetch, api


@pytest.fixture
def nexus_config() -> dict[str, Any]:
    return {"kernels": {"timeout_seconds": 120, "pool": {}}}


@pytest.mark.parametrize("language", list(CASES))
async def test_a_workspace_file_runs_as_a_program(jp_fetch: Fetch, workspace: Path, language: str) -> None:
    need_tools(language)
    main = project(workspace / "prog", language)
    (workspace / "bad").mkdir()
    bad = workspace / "bad" / main.name
    bad.write_text(CASES[language].runtime_error)
    before = snapshot(workspace)
    status, body = await api(jp_fetch, "execute", method="POST",
                             body={"path": f"prog/{main.name}", "args": ["one", "two words"], "timeout": 120000})
    assert status == 200 and body["exitCode"] == 3, body
    assert body["output"].splitlines() == [first_line(language), "notes next to the program", "stdin: "]
    assert body["errors"] == []
    status, failed = await api(jp_fetch, "execute", method="POST", body={"path": f"bad/{bad.name}", "cwd": "prog"})
    assert status == 200 and failed["exitCode"] != 0, failed
    error = failed["errors"][0]
    assert (error["path"], error["line"]) == (f"bad/{bad.name}", line_of(bad, CASES[language].runtime_marker))
    assert snapshot(workspace) == before  # no a.out, no classes, no __pycache__, no cpp-build/


async def test_a_path_outside_the_workspace_is_refused(jp_fetch: Fetch, workspace: Path) -> None:
    status, body = await api(jp_fetch, "execute", method="POST", body={"path": "/etc/hostname"})
    assert status == 403 and "outside the workspace" in body["message"], body
    status, body = await api(jp_fetch, "execute", method="POST", body={"path": "src/app.py", "kernelId": "k1"})
    assert status == 400, body


async def test_a_notebook_cpp_kernel_builds_outside_the_workspace(
    jp_fetch: Fetch, workspace: Path, jp_data_dir: Path
) -> None:
    need_tools("cpp")
    spec = jp_data_dir / "kernels" / "nexus-cpp"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps(LANGUAGES["cpp"].spec_dict()))
    before = snapshot(workspace)
    # "path": the kernel starts in the workspace, as a notebook's does
    started = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "nexus-cpp", "path": ""}))
    kernel = json.loads(started.body)
    try:
        status, body = await api(jp_fetch, "execute", method="POST", body={
            "kernelId": kernel["id"], "code": '#include <cstdio>\nstd::puts("built");', "timeout": 60000})
        assert status == 200 and body["output"] == "built\n", body
        assert snapshot(workspace) == before  # the kernel runs in the workspace but builds elsewhere
    finally:
        await jp_fetch("api", "kernels", kernel["id"], method="DELETE")
    shutil.rmtree(spec)
