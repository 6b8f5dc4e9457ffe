"""The escape suite against the execution service itself (the gateway and the Jupyter extension run the
same attacks through their faces): every attack from issue 13 must fail with a clear error, as root.

Also: the limits reported as themselves (a CPU share observed), the workspace writable only where a run
asks, and the refusal to run others' code where the sandbox is unavailable.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest
import pytest_asyncio

from nexus.kernels import ExecutionService, KernelSettings, SandboxUnavailableError
from nexus.kernels.cgroups import find_layout
from tests.support.escapes import ATTACKS, Attack, Host, host, require_sandbox, skip_unless_supported

MEMORY_MB = 256
PROCESSES = 32


@pytest.fixture(scope="module")
def escape_host(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Host]:
    require_sandbox()
    base = tmp_path_factory.mktemp("escape")
    (base / "workspace").mkdir()
    (base / "workspace" / "data.txt").write_text("readable\n")
    with host(base / "workspace", MEMORY_MB, PROCESSES) as h:
        yield h  # type: ignore[misc]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def sandboxed(escape_host: Host) -> AsyncIterator[ExecutionService]:
    settings = KernelSettings(pool={}, memory_mb=MEMORY_MB, processes=PROCESSES, cpus=0.5, timeout_seconds=30,
                              cull_idle_seconds=0, workspace=escape_host.workspace, max_output_bytes=100_000,
                              env={"python": {"CONFIGURED_BY_ADMIN": "yes"}})
    async with ExecutionService(settings, require_isolation=True) as service:
        yield service


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
async def test_attack_fails(attack: Attack, escape_host: Host, sandboxed: ExecutionService) -> None:
    skip_unless_supported(attack)
    result = await sandboxed.execute(escape_host.subs(attack.code), timeout=60)
    attack.check(escape_host, result.to_json())


async def test_the_admin_configured_environment_reaches_the_kernel(sandboxed: ExecutionService) -> None:
    result = await sandboxed.execute("import os\nprint(os.environ['CONFIGURED_BY_ADMIN'], os.environ['HOME'])")
    configured, home = result.output.split()
    assert configured == "yes" and home.endswith("/home")


async def test_the_kernel_is_an_unprivileged_user_without_capabilities(sandboxed: ExecutionService) -> None:
    code = ("import os\nstatus = open('/proc/self/status').read()\n"
            "print(os.getuid(), *[line for line in status.splitlines() if line.startswith(('CapEff', 'NoNewPrivs', "
            "'Seccomp:'))])")
    await sandboxed.open_session("python", "who")
    result = await sandboxed.execute(code, session_id="who")
    assert result.exit_code == 0, result.output
    assert result.output.split() == ["65534", "CapEff:", "0000000000000000", "NoNewPrivs:", "1", "Seccomp:", "2"]
    # seen from the host, every process of the kernel is uid 65534, not root
    pid = sandboxed.kernel("who").pid  # type: ignore[attr-defined]
    tree = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    assert len(tree) >= 3 and {p.uids().real for p in tree} == {65534} and {p.uids().effective for p in tree} == {65534}
    await sandboxed.shutdown("who")


async def test_the_workspace_is_readable_and_writable_only_when_asked(
    escape_host: Host, sandboxed: ExecutionService
) -> None:
    read = await sandboxed.execute(escape_host.subs("print(open(WORKSPACE + '/data.txt').read(), end='')"))
    assert read.output == "readable\n"
    os.chown(escape_host.workspace, 65534, 65534)  # the kernels' user may write it: only the mount says no
    try:
        denied = await sandboxed.execute(escape_host.subs("open(WORKSPACE + '/made.txt', 'w').write('x')"))
        assert denied.exit_code == 1 and "Read-only file system" in denied.output
        allowed = await sandboxed.execute(escape_host.subs("open(WORKSPACE + '/made.txt', 'w').write('x')"),
                                          writable=True)
        assert allowed.exit_code == 0, allowed.output
        assert (escape_host.workspace / "made.txt").read_text() == "x"
    finally:
        os.chown(escape_host.workspace, 0, 0)
        (escape_host.workspace / "made.txt").unlink(missing_ok=True)


async def test_the_cpu_share_is_enforced(sandboxed: ExecutionService) -> None:
    layout = find_layout()
    if layout is None or not layout.has("cpu"):
        pytest.skip("no writable cpu cgroup on this machine")
    # four busy processes for 1.5 s of wall time, under a share of half a CPU
    code = """import os, time
start = time.monotonic()
children = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        while time.monotonic() - start < 1.5:
            pass
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
wall = time.monotonic() - start
used = os.times().children_user + os.times().children_system
print(round(used / wall, 2))"""
    result = await sandboxed.execute(code)
    assert result.exit_code == 0, result.output
    share = float(result.output)
    assert share < 0.5 * 1.6, f"4 busy processes got {share} CPUs under a 0.5 CPU cap"


async def test_a_kernel_killing_itself_is_a_signal_not_a_memory_limit(sandboxed: ExecutionService) -> None:
    killed = await sandboxed.execute("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", session_id="self-kill")
    assert killed.exit_code == 137 and "SIGKILL" in killed.reason and "memory" not in killed.reason
    crashed = await sandboxed.execute("import ctypes\nctypes.string_at(0)", session_id="self-kill")
    assert crashed.exit_code == 139 and crashed.reason == "the kernel was killed by signal SIGSEGV"
    await sandboxed.shutdown("self-kill")


async def test_execution_is_refused_without_the_sandbox_unless_the_admin_opts_in() -> None:
    unsandboxed = KernelSettings(pool={}, use_bwrap=False, cull_idle_seconds=0)
    async with ExecutionService(unsandboxed, require_isolation=True) as service:
        assert service.isolation()["refused"] is True
        with pytest.raises(SandboxUnavailableError, match="allow_unsandboxed"):
            await service.execute("print('ran')")
    allowed = KernelSettings(pool={}, use_bwrap=False, allow_unsandboxed=True, cull_idle_seconds=0)
    async with ExecutionService(allowed, require_isolation=True) as service:
        assert (await service.execute("print('ran')")).output == "ran\n"
    async with ExecutionService(unsandboxed) as service:  # `nexus run`: the user's own code, with a warning
        assert (await service.execute("print('ran')")).output == "ran\n"


def test_the_kernel_environment_is_an_allowlist(tmp_path: Path) -> None:
    from nexus.kernels.sandbox import KernelPaths, kernel_env
    from nexus.kernels.settings import Limits

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEXUS_GATEWAY_SECRET", "s")
        mp.setenv("OPENAI_API_KEY", "k")
        mp.setenv("LC_ALL", "C.UTF-8")
        env = kernel_env(KernelPaths(tmp_path), Limits(), {"NEXUS_TYPESCRIPT": "/x"}, {"MY_VAR": "1"})
    assert "NEXUS_GATEWAY_SECRET" not in env and "OPENAI_API_KEY" not in env
    assert env["LC_ALL"] == "C.UTF-8" and env["HOME"] == str(tmp_path / "home") and env["MY_VAR"] == "1"
    assert env["NEXUS_TYPESCRIPT"] == "/x"
