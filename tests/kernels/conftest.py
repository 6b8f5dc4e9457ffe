"""Shared, real kernels for tests/kernels: one service (and its kernels) for the whole folder.

Every async test here runs on one session-scoped event loop so kernels started by one test can serve the
next (starting a JVM or Node.js per test would blow the folder's time budget); tests that break a kernel
on purpose use their own session ids, and the service restarts what they break.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from pytest_asyncio import is_async_test

from nexus.kernels import ExecutionService, KernelSettings
from nexus.kernels.cgroups import find_layout

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    marker = pytest.mark.asyncio(loop_scope="session")
    for item in items:
        if is_async_test(item) and Path(str(item.path)).is_relative_to(HERE):
            item.add_marker(marker, append=False)


TEST_SETTINGS = KernelSettings(
    pool={"python": 1},
    memory_mb=512,
    cpu_seconds=40,
    processes=64,
    file_size_mb=2,
    timeout_seconds=30,
    interrupt_grace_seconds=3,
    max_output_bytes=200_000,
    cull_idle_seconds=0,
)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def service() -> AsyncIterator[ExecutionService]:
    async with ExecutionService(TEST_SETTINGS) as svc:
        yield svc


def need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed on this machine")


_layout = find_layout()
can_limit_processes = (_layout is not None and _layout.has("pids")) or os.geteuid() != 0
