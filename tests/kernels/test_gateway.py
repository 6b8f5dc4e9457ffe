"""Remote kernels on a real jupyter-kernelgateway with a token, through Nexus' own REST + WebSocket client."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from nexus.kernels import (
    EXIT_OK,
    EXIT_TIMEOUT,
    ExecutionService,
    GatewayBackend,
    GatewayError,
    KernelSettings,
)
from tests.support.kernel_gateway import Gateway, running_gateway


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    with running_gateway("s3cret-token") as gw:
        yield gw


def remote_settings(gw: Gateway, token: str | None = None) -> KernelSettings:
    return KernelSettings(
        pool={}, gateway_url=gw.url, gateway_token=gw.token if token is None else token, cull_idle_seconds=0
    )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def remote(gateway: Gateway) -> AsyncIterator[ExecutionService]:
    async with ExecutionService(remote_settings(gateway)) as svc:
        assert isinstance(svc.backend, GatewayBackend)
        yield svc


async def test_remote_one_shot_and_session(remote: ExecutionService) -> None:
    result = await remote.execute("import os\nprint('remote')\n6 * 7", "python")
    assert (result.exit_code, result.output) == (EXIT_OK, "remote\n42\n")
    await remote.execute("kept = 5", session_id="r1")
    assert (await remote.execute("kept + 1", session_id="r1")).output == "6\n"
    await remote.shutdown("r1")


async def test_remote_timeout_interrupts_over_rest(remote: ExecutionService) -> None:
    await remote.execute("x = 'still'", session_id="r2")
    result = await remote.execute("import time\ntime.sleep(60)", session_id="r2", timeout=1.5)
    assert result.exit_code == EXIT_TIMEOUT and "the kernel was interrupted" in result.output
    assert (await remote.execute("x", session_id="r2")).output == "'still'\n"
    await remote.restart("r2")
    assert (await remote.execute("'x' in dir()", session_id="r2")).output == "False\n"
    await remote.shutdown("r2")


async def test_wrong_token_is_a_clear_error(gateway: Gateway) -> None:
    async with ExecutionService(remote_settings(gateway, token="wrong")) as svc:
        with pytest.raises(
            GatewayError,
            match=r"refused the request \(HTTP 403\): check the gateway token|"
            r"refused the request \(HTTP 401\): check the gateway token",
        ):
            await svc.execute("1", "python")


async def test_unreachable_gateway_is_a_clear_error(gateway: Gateway) -> None:
    settings = dataclasses.replace(remote_settings(gateway), gateway_url="http://127.0.0.1:9")
    async with ExecutionService(settings) as svc:
        with pytest.raises(GatewayError, match="cannot reach the gateway at http://127.0.0.1:9"):
            await svc.execute("1", "python")


def test_nexus_run_with_gateway_url(gateway: Gateway, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "nexus.cli", "run", "--gateway-url", gateway.url,
                           "--gateway-token", gateway.token, "-c", "import sys\nprint(sys.version_info[0])"],
                          capture_output=True, text=True, cwd=tmp_path, check=False, timeout=120)
    assert (done.returncode, done.stdout) == (0, "3\n"), done.stderr
