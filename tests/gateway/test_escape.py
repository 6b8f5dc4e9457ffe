"""The escape suite through a real gateway: every attack sent as ``ide:execute`` over a real WebSocket by a
developer, with the gateway's secret and an API key in the server's environment (tests/support/escapes.py).
And the refusal: a gateway whose kernels cannot be sandboxed answers ``unavailable`` unless allowed."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from nexus.engine.config import Settings
from nexus.engine.providers import ProviderRouter, load_providers_config
from nexus.gateway import Gateway, GatewaySettings
from tests.support.escapes import ATTACKS, host, require_sandbox, run_all, unsupported

from .test_execute import run
from .wsclient import client, error_code

MEMORY_MB = 256
PROCESSES = 32


def make(settings: GatewaySettings, workspace: Path, **kernels: Any) -> Gateway:
    providers = ProviderRouter(load_providers_config(Settings({}), env={}))
    config = {"kernels": {"pool": {}, "memory_mb": MEMORY_MB, "processes": PROCESSES, **kernels}}
    return Gateway.create(dataclasses.replace(settings, port=0), workspace, nexus_settings=Settings(config),
                          providers=providers)


async def test_no_attack_escapes_through_ide_execute(settings: GatewaySettings, workspace: Path) -> None:
    require_sandbox()
    with host(workspace, MEMORY_MB, PROCESSES) as h:
        gw = make(settings, workspace)
        await gw.start()
        try:
            results = {}
            async with client(gw, "dave") as c:
                for attack in ATTACKS:
                    if unsupported(attack):
                        continue
                    _, reply = await run(c, {"code": h.subs(attack.code), "timeout": 60000})
                    assert reply["type"] == "ide:result", (attack.name, reply)
                    results[attack.name] = reply["data"]
        finally:
            await gw.stop(grace=0)
        run_all(h, results)


async def test_a_gateway_without_the_sandbox_refuses_code_unless_allowed(
    settings: GatewaySettings, workspace: Path
) -> None:
    gw = make(settings, workspace, use_bwrap=False)
    await gw.start()
    try:
        async with client(gw, "dave") as c:
            _, reply = await run(c, {"code": "print('ran')"})
            assert error_code(reply) == "unavailable", reply
            assert "allow_unsandboxed" in reply["data"]["message"]
    finally:
        await gw.stop(grace=0)
    gw = make(settings, workspace, use_bwrap=False, allow_unsandboxed=True)
    await gw.start()
    try:
        async with client(gw, "dave") as c:
            _, reply = await run(c, {"code": "print('ran')"})
            assert reply["type"] == "ide:result" and reply["data"]["output"] == "ran\n", reply
    finally:
        await gw.stop(grace=0)
