"""``nexus run`` and ``nexus kernels list`` as a user runs them: a real process, real kernels."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def nexus(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nexus.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=120,
    )


def test_run_code_prints_output_and_exits_with_exit_code(tmp_path: Path) -> None:
    ok = nexus("run", "-c", "print('hello')", cwd=tmp_path)
    assert (ok.returncode, ok.stdout) == (0, "hello\n")
    failed = nexus("run", "-c", "raise ValueError('nope')", cwd=tmp_path)
    assert failed.returncode == 1 and "ValueError: nope" in failed.stderr


def test_run_code_reads_this_commands_stdin(tmp_path: Path) -> None:
    code = "print('hi', input('name? '))\ntry:\n    input()\nexcept EOFError:\n    print('eof')\n"
    done = subprocess.run([sys.executable, "-m", "nexus.cli", "run", "-c", code], input="Ada\n",
                          capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False)
    assert (done.returncode, done.stdout) == (0, "name? hi Ada\neof\n"), done.stderr


def test_run_json_prints_the_reply_object(tmp_path: Path) -> None:
    done = nexus(
        "run", "--json", "--timeout", "1", "-c", "print('x', flush=True)\nwhile True: pass", cwd=tmp_path
    )
    reply = json.loads(done.stdout)
    assert done.returncode == 124 and reply["exitCode"] == 124
    assert reply["output"].startswith("x\n") and set(reply) >= {
        "output",
        "exitCode",
        "executionTime",
        "outputs",
    }


def test_run_file_picks_the_language_from_the_extension(tmp_path: Path) -> None:
    if shutil.which("node") is None:
        pytest.skip("node not installed on this machine")
    tmp_path.chmod(0o755)  # pytest's folders are closed; a user's project is not: nobody must enter it
    script = tmp_path / "hello.js"
    script.write_text("console.log([1, 2].map(x => x * 21).join(','))\n")
    done = nexus("run", str(script), cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "21,42\n")


def test_run_file_is_the_program_with_its_arguments_stdin_folder_and_exit_code(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)  # pytest's folders are closed; a user's project is not: nobody must enter it
    project = tmp_path / "project"
    project.mkdir(mode=0o755)
    (project / "helper.py").write_text("GREETING = 'hi'\n")
    (project / "data.txt").write_text("relative read\n")
    (project / "main.py").write_text(
        "import sys\nimport helper\nprint(helper.GREETING, sys.argv[1:])\nprint(open('data.txt').read().strip())\n"
        "print('stdin:', sys.stdin.read().strip())\nraise SystemExit(5)\n"
    )
    done = subprocess.run([sys.executable, "-m", "nexus.cli", "run", "project/main.py", "--", "-x", "two words"],
                          input="piped in\n", capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False)
    assert done.returncode == 5, done.stderr
    assert done.stdout == "hi ['-x', 'two words']\nrelative read\nstdin: piped in\n"
    # stdin with nothing to read is end-of-file, not a hang
    empty = subprocess.run([sys.executable, "-m", "nexus.cli", "run", "main.py"], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, cwd=project, timeout=120, check=False)
    assert (empty.returncode, empty.stdout.splitlines()[-1]) == (5, "stdin: ")
    assert not (project / "__pycache__").exists()  # the bytecode cache of helper.py went elsewhere


def test_run_file_points_at_the_error_in_text_and_json(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir(mode=0o755)
    (project / "fail.py").write_text("def f():\n    return 1 / 0\n\nf()\n")
    done = nexus("run", "fail.py", cwd=project)
    assert done.returncode == 1 and "ZeroDivisionError: division by zero" in done.stderr
    assert done.stderr.rstrip().splitlines()[-1] == "nexus run: fail.py:2:12: ZeroDivisionError: division by zero"
    reply = json.loads(nexus("run", "--json", "fail.py", cwd=project).stdout)
    assert reply["exitCode"] == 1 and reply["errors"] == [
        {"path": str(project / "fail.py"), "line": 2, "column": 12, "message": "ZeroDivisionError: division by zero"}
    ]


def test_run_refuses_bad_input_clearly(tmp_path: Path) -> None:
    unknown = nexus("run", "--lang", "cobol", "-c", "x", cwd=tmp_path)
    assert unknown.returncode == 2 and "unknown language 'cobol'" in unknown.stderr
    neither = nexus("run", cwd=tmp_path)
    assert neither.returncode == 2 and "give either -c CODE or a FILE" in neither.stderr
    missing = nexus("run", str(tmp_path / "absent.py"), cwd=tmp_path)
    assert missing.returncode == 2 and "absent.py: no such file" in missing.stderr
    (tmp_path / "notes.txt").write_text("print(1)\n")
    closed = nexus("run", "notes.txt", "--lang", "python", cwd=tmp_path)
    assert os.geteuid() != 0 or closed.returncode == 2 and "closed to uid 65534" in closed.stderr and "chmod o+x" in closed.stderr
    unknown_file = nexus("run", "notes.txt", cwd=tmp_path)
    assert unknown_file.returncode == 2 and "cannot tell which language runs notes.txt" in unknown_file.stderr
    assert ".py" in unknown_file.stderr and ".cpp" in unknown_file.stderr and ".h," not in unknown_file.stderr
    stray = nexus("run", "-c", "print(1)", "--writable", cwd=tmp_path)
    assert stray.returncode == 2 and "for a FILE run" in stray.stderr


def test_kernels_list_shows_languages_and_sandbox(tmp_path: Path) -> None:
    done = nexus("kernels", "list", "--json", cwd=tmp_path)
    data = json.loads(done.stdout)
    rows = {row["language"]: row for row in data["languages"]}
    assert set(rows) == {"python", "javascript", "typescript", "java", "cpp"}
    assert rows["python"]["ready"] is True
    assert set(data["sandbox"]) == {"isolation", "cgroups", "rlimits"}


def test_kernels_list_probes_inside_the_sandbox_and_says_why_not(tmp_path: Path) -> None:
    """A compiler the service can see but the sandbox user cannot (a 0700 folder) is not "ready"."""
    import os
    import uuid

    from nexus.kernels import KernelSettings
    from nexus.kernels.javascript.runtime import find_typescript
    from nexus.kernels.sandbox import isolation

    found = find_typescript()
    if found is None or shutil.which("node") is None or os.geteuid() != 0 or not isolation(KernelSettings()).available:
        pytest.skip("needs node, the typescript package, root and the sandbox")
    closed = Path("/var/tmp") / f"nexus-closed-{uuid.uuid4().hex}"
    closed.mkdir(mode=0o700)
    try:
        shutil.copytree(found, closed / "typescript")
        env = {**os.environ, "NEXUS_TYPESCRIPT": str(closed / "typescript")}
        done = subprocess.run([sys.executable, "-m", "nexus.cli", "kernels", "list", "--json"], env=env,
                              capture_output=True, text=True, cwd=tmp_path, check=False, timeout=180)
        rows = {row["language"]: row for row in json.loads(done.stdout)["languages"]}
        # the sandbox now binds runtime folders from behind closed ones, so what matters is that the probe
        # says what a run then does
        ran = subprocess.run([sys.executable, "-m", "nexus.cli", "run", "--lang", "typescript", "-c",
                              "console.log(40 + 2)"], env=env, capture_output=True, text=True, cwd=tmp_path,
                             check=False, timeout=180)
        assert rows["typescript"]["ready"] is (ran.returncode == 0 and "42" in ran.stdout), (rows, ran.stderr)
        if not rows["typescript"]["ready"]:
            assert "fails inside the sandbox" in rows["typescript"]["detail"]
        assert rows["python"]["ready"] is True and rows["javascript"]["ready"] is True
    finally:
        shutil.rmtree(closed)


async def test_kernels_install_writes_specs_that_jupyter_can_start(tmp_path: Path) -> None:
    import os

    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    from nexus.kernels import AttachedKernel, run_code

    env = dict(os.environ, NEXUS_CACHE_DIR=str(tmp_path / "cache"))
    done = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "nexus.cli",
            "kernels",
            "install",
            "--prefix",
            str(tmp_path / "env"),
            "--no-npm",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    kernels_dir = tmp_path / "env" / "share" / "jupyter" / "kernels"
    assert {p.name for p in kernels_dir.iterdir()} >= {
        "nexus-python",
        "nexus-javascript",
        "nexus-typescript",
        "nexus-java",
        "nexus-cpp",
    }
    python_spec = json.loads((kernels_dir / "nexus-python" / "kernel.json").read_text())
    assert python_spec["metadata"]["debugger"] is True and python_spec["interrupt_mode"] == "message"
    if shutil.which("node") is None:
        return
    specs = KernelSpecManager(kernel_dirs=[str(kernels_dir)])
    manager = AsyncKernelManager(
        kernel_name="nexus-javascript", kernel_spec_manager=specs, transport="ipc", ip=str(tmp_path / "ipc")
    )  # absolute: the kernel runs in another cwd
    await manager.start_kernel(cwd=str(tmp_path))
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        result = await run_code(AttachedKernel(manager, client, "javascript"), "[1, 2, 3].length", timeout=30)
        assert result.output == "3\n"
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)
