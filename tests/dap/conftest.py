"""Fixtures for tests/dap: `nexus dap` as a subprocess, and a real ExecutionService whose sessions it
can attach to (advertised in a private sessions folder, never the user's)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nexus.kernels import ExecutionService, KernelSettings

from .client import DapClient

SETTINGS = KernelSettings(pool={}, cull_idle_seconds=0, timeout_seconds=60, cpu_seconds=60)


@pytest.fixture(autouse=True)
def sessions_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "sessions"
    monkeypatch.setenv("NEXUS_SESSIONS_DIR", str(folder))
    return folder


@pytest.fixture
async def service(sessions_dir: Path) -> AsyncIterator[ExecutionService]:
    async with ExecutionService(SETTINGS) as svc:
        yield svc


@pytest.fixture
async def dap(sessions_dir: Path) -> AsyncIterator[DapClient]:
    client = await DapClient.stdio()
    yield client
    if client.process is not None and client.process.returncode is None:
        await client.close()
