"""A jupyter-server started with a gateway URL runs ``POST execute`` on the gateway: a real Jupyter Kernel
Gateway with an auth token (which jupyter-server's own kernel WebSocket client would not send)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_server.gateway.gateway_client import GatewayClient
from traitlets.config import Config

from tests.support.kernel_gateway import Gateway, running_gateway

from .conftest import Fetch, api


@pytest.fixture(scope="module")
def kernel_gateway() -> Iterator[Gateway]:
    with running_gateway(token="jupyter-ext-test-token") as gateway:
        yield gateway


@pytest.fixture
def jp_server_config(kernel_gateway: Gateway, nexus_config: dict[str, Any]) -> Iterator[Config]:
    # GatewayClient is a process-wide singleton that outlives each test's server: start from a fresh one
    # configured by this server, and leave none behind for the next test.
    GatewayClient.clear_instance()
    yield Config({
        "ServerApp": {"jpserver_extensions": {"nexus.jupyter_ext": True}},
        "GatewayClient": {"url": kernel_gateway.url, "auth_token": kernel_gateway.token},
        "NexusExtension": {"nexus_config": nexus_config},
    })
    GatewayClient.clear_instance()


async def test_execute_runs_on_the_gateway(jp_fetch: Fetch, kernel_gateway: Gateway) -> None:
    status, body = await api(jp_fetch, "status")
    assert status == 200 and body["kernels"]["gateway"] == kernel_gateway.url, body
    code = "import os\nprint('remote', os.environ.get('KERNEL_GATEWAY', 'n/a'))\n6 * 7"
    status, result = await api(jp_fetch, "execute", method="POST", body={"code": code, "timeout": 60000})
    assert status == 200, result
    assert result["exitCode"] == 0 and result["output"].endswith("42\n") and result["output"].startswith("remote")

    # a kernel started through the server (on the gateway) keeps its state across requests
    kernel = json.loads((await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "python3"}))).body)
    await api(jp_fetch, "execute", method="POST", body={"kernelId": kernel["id"], "code": "x = 20"})
    status, second = await api(jp_fetch, "execute", method="POST", body={"kernelId": kernel["id"], "code": "x * 2 + 2"})
    assert status == 200 and second["output"] == "42\n", second
    status, slow = await api(jp_fetch, "execute", method="POST",
                             body={"kernelId": kernel["id"], "code": "import time\ntime.sleep(30)", "timeout": 1500})
    assert slow["exitCode"] == 124, slow
    status, after = await api(jp_fetch, "execute", method="POST", body={"kernelId": kernel["id"], "code": "x"})
    assert after["output"] == "20\n", after  # interrupted, not restarted
    await jp_fetch("api", "kernels", kernel["id"], method="DELETE")
