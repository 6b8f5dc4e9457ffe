"""Bad code against real sandboxed kernels: each fault gives a clear result and the next run works."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import psutil
import pytest
import pytest_asyncio

from nexus.kernels import EXIT_ERROR, EXIT_KILLED, EXIT_TIMEOUT, ExecutionService, KernelSettings

from .conftest import can_limit_processes


def sid() -> str:
    return uuid.uuid4().hex[:8]


async def test_infinite_loop_times_out_keeping_what_was_printed(service: ExecutionService) -> None:
    session = sid()
    await service.execute("x = 'kept'", session_id=session)
    result = await service.execute(
        "print('before', flush=True)\nwhile True:\n    pass", session_id=session, timeout=1.5
    )
    assert result.exit_code == EXIT_TIMEOUT
    assert result.output.startswith("before\n")
    assert "timed out after 1.5 s; the kernel was interrupted" in result.output
    assert (await service.execute("x", session_id=session)).output == "'kept'\n"
    await service.shutdown(session)


async def test_code_that_ignores_interrupts_gets_the_kernel_restarted(service: ExecutionService) -> None:
    session = sid()
    code = (
        "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.1)"
    )
    result = await service.execute(code, session_id=session, timeout=1)
    assert result.exit_code == EXIT_TIMEOUT
    assert "did not stop when interrupted and was restarted" in result.output
    assert (await service.execute("print('back')", session_id=session)).output == "back\n"
    await service.shutdown(session)


async def test_memory_hog_hits_the_memory_limit(service: ExecutionService) -> None:
    session = sid()
    result = await service.execute("hog = bytearray(2 * 1024**3)", session_id=session)
    assert result.exit_code == EXIT_KILLED
    assert result.reason == "memory limit of 512 MB exceeded"
    assert "memory limit of 512 MB exceeded" in result.output
    assert (await service.execute("print('alive')", session_id=session)).output == "alive\n"
    await service.shutdown(session)


@pytest.mark.skipif(
    not can_limit_processes,
    reason="running as root without a writable pids cgroup: nothing here could stop a fork bomb",
)
async def test_fork_bomb_hits_the_process_limit_and_is_cleaned_up(service: ExecutionService) -> None:
    session = sid()
    await service.open_session("python", session)
    kernel = service.kernel(session)
    result = await service.execute("import os\nwhile True:\n    os.fork()", session_id=session, timeout=20)
    assert result.exit_code == EXIT_KILLED
    assert result.reason == "process limit of 64 exceeded"
    assert (await service.execute("print('ok')", session_id=session)).output == "ok\n"
    pid = kernel.pid
    launcher = service.backend.bwrap is not None  # type: ignore[attr-defined]
    # what is left is the kernel alone (under bubblewrap: bwrap, its pid-namespace init, and the kernel)
    assert pid is not None and len(psutil.Process(pid).children(recursive=True)) == (2 if launcher else 0)
    await service.shutdown(session)


async def test_os_exit_kills_the_kernel_with_a_clear_error_and_the_next_run_works(
    service: ExecutionService,
) -> None:
    session = sid()
    result = await service.execute("import os\nos._exit(3)", session_id=session)
    assert result.exit_code == EXIT_ERROR
    assert result.error is not None and result.error.ename == "KernelDied"
    assert "exited with status 3" in result.output and "state was lost" in result.output
    assert (await service.execute("print('again')", session_id=session)).output == "again\n"
    one_shot = await service.execute("import os\nos._exit(0)")
    assert one_shot.exit_code == EXIT_ERROR and (await service.execute("print(1)")).output == "1\n"
    await service.shutdown(session)


async def test_output_flood_is_truncated_with_a_notice(service: ExecutionService) -> None:
    result = await service.execute("for i in range(10**6):\n    print(i)", timeout=60)
    assert result.exit_code == 0
    assert result.truncated
    assert result.output.startswith("0\n1\n2\n")
    assert len(result.output.encode()) < 200_000 + 1_000  # the limit, plus the notice
    assert "[output truncated: " in result.output
    assert result.dropped_bytes > 6_000_000


async def test_file_size_limit(service: ExecutionService) -> None:
    result = await service.execute("open('big.bin', 'wb').write(b'x' * 5 * 1024 * 1024)")
    assert result.exit_code == EXIT_KILLED
    assert result.reason == "file size limit of 2 MB exceeded"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def tight() -> AsyncIterator[ExecutionService]:
    async with ExecutionService(KernelSettings(pool={}, cpu_seconds=2, cull_idle_seconds=0)) as svc:
        yield svc


async def test_cpu_limit_counts_per_execution(tight: ExecutionService) -> None:
    session = sid()
    # 1.2 s of CPU, three times: over the 2 s limit in total, but each execution is within it
    burn = "import time\nend = time.process_time() + 1.2\nwhile time.process_time() < end:\n    pass\n"
    burn += "print('ok')"
    for _ in range(3):
        assert (await tight.execute(burn, session_id=session)).output == "ok\n"
    result = await tight.execute("while True:\n    pass", session_id=session, timeout=60)
    assert result.exit_code == EXIT_KILLED
    assert result.reason == "CPU time limit of 2 s exceeded"
    assert (await tight.execute("print('fresh')", session_id=session)).output == "fresh\n"
