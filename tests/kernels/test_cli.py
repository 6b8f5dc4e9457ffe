"""``nexus run`` and ``nexus kernels list`` as a user runs them: a real process, real kernels."""

from __future__ import annotations

import asyncio
import json
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
    script = tmp_path / "hello.js"
    script.write_text("console.log([1, 2].map(x => x * 21).join(','))\n")
    done = nexus("run", str(script), cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "21,42\n")


def test_run_refuses_bad_input_clearly(tmp_path: Path) -> None:
    unknown = nexus("run", "--lang", "cobol", "-c", "x", cwd=tmp_path)
    assert unknown.returncode == 2 and "unknown language 'cobol'" in unknown.stderr
    neither = nexus("run", cwd=tmp_path)
    assert neither.returncode == 2 and "give either -c CODE or a FILE" in neither.stderr
    missing = nexus("run", str(tmp_path / "absent.py"), cwd=tmp_path)
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_kernels_list_shows_languages_and_sandbox(tmp_path: Path) -> None:
    done = nexus("kernels", "list", "--json", cwd=tmp_path)
    data = json.loads(done.stdout)
    rows = {row["language"]: row for row in data["languages"]}
    assert set(rows) == {"python", "javascript", "typescript", "java", "cpp"}
    assert rows["python"]["ready"] is True
    assert set(data["sandbox"]) == {"isolation", "cgroups", "rlimits"}


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
