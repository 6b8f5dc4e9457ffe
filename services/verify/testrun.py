"""The workspace's tests: which command runs them (pytest, npm test, mvn, ctest, as detected), and a run
of that command sandboxed the way kernels are (``nexus.kernels.sandbox``: resource limits, and with
bubblewrap no network, a read-only system and write access only to the folder it runs in).

Only the files a change touches are run when the runner can be pointed at files (pytest: the changed
test files, and the test files that name a changed module); otherwise the whole suite.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from nexus.engine.config import Settings

if TYPE_CHECKING:
    from nexus.kernels import KernelSettings

log = logging.getLogger(__name__)

MAX_OUTPUT = 20_000  # characters of output kept (the end: where the summary is)
PYTEST_SUMMARY = re.compile(r"(\d+) (passed|failed|error|errors|skipped|xfailed|xpassed)\b")


@dataclasses.dataclass(frozen=True, slots=True)
class TestCommand:
    __test__ = False  # not a pytest class
    runner: str  # pytest, npm, mvn, ctest
    argv: tuple[str, ...]
    targets_files: bool  # whether files can be appended to run only them


@dataclasses.dataclass(frozen=True, slots=True)
class TestRun:
    __test__ = False
    runner: str
    command: tuple[str, ...]
    exit_code: int
    passed: int
    failed: int
    duration_ms: float
    output: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    def summary(self) -> str:
        if self.timed_out:
            return f"{self.runner} timed out"
        if self.runner == "pytest" and self.exit_code == 5:
            return "no tests ran"
        counts = f"{self.passed} passed" + (f", {self.failed} failed" if self.failed else "")
        return f"{counts} ({self.runner}, exit {self.exit_code})"


def interpreter_for(root: Path) -> str:
    """The workspace's own Python (``.venv``/``venv`` in it) when it has one, else the one running Nexus."""
    for folder in (".venv", "venv"):
        candidate = root / folder / "bin" / "python"
        if candidate.is_file():
            return str(candidate)
    return sys.executable


def detect_tests(root: Path, python: str | None = None) -> TestCommand | None:
    """The test command of the workspace at ``root``, or None when none is recognised; ``python`` runs
    pytest (default: :func:`interpreter_for` ``root``)."""
    if (root / "package.json").is_file():
        try:
            scripts = json.loads((root / "package.json").read_text(encoding="utf-8")).get("scripts", {})
        except (json.JSONDecodeError, OSError, AttributeError):
            scripts = {}
        if isinstance(scripts, dict) and "test" in scripts:
            return TestCommand("npm", ("npm", "test", "--silent"), False)
    if (root / "pom.xml").is_file():
        return TestCommand("mvn", ("mvn", "-q", "-o", "test"), False)
    if (root / "CMakeLists.txt").is_file() and (root / "build" / "CTestTestfile.cmake").is_file():
        return TestCommand("ctest", ("ctest", "--test-dir", "build", "--output-on-failure"), False)
    has_pytest = any(root.glob("test_*.py")) or any(root.glob("tests/**/test_*.py")) \
        or any(root.glob("*_test.py")) or (root / "pytest.ini").is_file() \
        or "[tool.pytest" in _read(root / "pyproject.toml")
    if has_pytest:
        return TestCommand("pytest", (python or interpreter_for(root), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                      "--no-header", "-rN"), True)
    return None


def pytest_targets(root: Path, changed: Sequence[str]) -> list[str]:
    """The test files a change touches: changed test files, and test files naming a changed module."""
    tests = sorted(p.relative_to(root).as_posix() for p in root.rglob("test_*.py") if ".nexus" not in p.parts)
    targets = [c for c in changed if c in tests]
    modules = {Path(c).stem for c in changed if c.endswith(".py") and c not in tests}
    for test in tests:
        if test in targets:
            continue
        text = _read(root / test)
        if any(re.search(rf"\b{re.escape(m)}\b", text) for m in modules):
            targets.append(test)
    return targets


def _sandbox_prefix(kernels: KernelSettings, scratch: Path, root: Path) -> tuple[list[str], Path]:
    """The launcher + bubblewrap argv for a test command in the overlay ``root``, as kernels are started
    (nexus.kernels.backend.LocalBackend): the same user, namespaces, seccomp filter, hidden folders and
    limits; the overlay is writable (it is a scratch copy); the log file the launcher writes."""
    from nexus.kernels import sandbox

    found = sandbox.isolation(kernels)
    bwrap = found.bwrap if found.available else None
    user = sandbox.sandbox_user(kernels) if bwrap else None
    os.chmod(scratch, 0o711)
    paths = sandbox.KernelPaths(scratch / "run")
    paths.make()
    seccomp = None
    if bwrap:
        from nexus.kernels.seccomp import filter_bpf

        seccomp = scratch / "seccomp.bpf"
        seccomp.write_bytes(filter_bpf())
        os.chmod(seccomp, 0o600)
    env = sandbox.kernel_env(paths, kernels.limits, {"PYTHONDONTWRITEBYTECODE": "1"}, kernels.env_for("python"))
    plan = sandbox.SandboxPlan(
        kernels.limits, headroom_mb=512, bwrap=bwrap, seccomp_file=seccomp, user=user, env=env,
        ro_binds=tuple(sandbox.runtime_paths()), hidden=tuple(sandbox.hidden_folders(kernels, scratch)) if bwrap else (),
        cpus=kernels.limits.cpus)
    return sandbox.launch_prefix(plan, paths, root, writable=True), paths.log


async def run_tests(root: Path, settings: Settings, command: TestCommand, targets: Sequence[str] = (),
                    timeout: float = 120.0) -> TestRun:
    """Run ``command`` in ``root`` (sandboxed), on ``targets`` when the runner takes files."""
    from nexus.kernels import kernel_settings

    kernels = kernel_settings(settings)
    argv = list(command.argv) + (list(targets) if command.targets_files else [])
    if shutil.which(argv[0]) is None and not Path(argv[0]).is_file():
        return TestRun(command.runner, tuple(argv), 127, 0, 0, 0.0, f"{argv[0]} is not installed")
    scratch = Path(tempfile.mkdtemp(prefix="nexus-tests-"))
    prefix, log_file = _sandbox_prefix(kernels, scratch, root)
    full = [*prefix, "/bin/sh", "-c", 'cd "$0" && exec "$@"', str(root), *argv]
    started = time.perf_counter()
    # The launcher sends the command's stdout and stderr to kernel.log in its folder.
    proc = await asyncio.create_subprocess_exec(*full, stdin=asyncio.subprocess.DEVNULL,
                                                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
                                                start_new_session=True)
    timed_out = False
    try:
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            timed_out = True
            _kill(proc)
            await proc.wait()
        text = _read(log_file)
    except BaseException:  # cancelled: the run must not outlive the request
        _kill(proc)
        await proc.wait()
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    passed = failed = 0
    summary = next((line for line in reversed(text.splitlines()) if PYTEST_SUMMARY.search(line)), "")
    for count, what in PYTEST_SUMMARY.findall(summary):
        if what == "passed":
            passed = int(count)
        elif what in ("failed", "error", "errors"):
            failed += int(count)
    return TestRun(command.runner, tuple(argv), proc.returncode if proc.returncode is not None else -1, passed,
                   failed, (time.perf_counter() - started) * 1000, text[-MAX_OUTPUT:], timed_out)


def _kill(proc: asyncio.subprocess.Process) -> None:
    import os
    import signal

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
