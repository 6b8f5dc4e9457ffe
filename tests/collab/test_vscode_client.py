"""The VS Code extension's live-session client (yjs + y-protocols, editors/vscode/src/common/collab.ts)
under Node against a real ``nexus gateway``, interoperating with a pycrdt client in the same room."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from nexus.cli.collab_client import CollabClient
from nexus.gateway import Role, TokenIssuer, load_secret
from tests.editors.conftest import VSCODE_DIR, node_modules, run

from .process import GatewayProcess

__all__ = ["node_modules"]

pytestmark = pytest.mark.timeout(300)


def test_the_extension_client_against_a_real_gateway(node_modules: Path, tmp_path: Path) -> None:
    run(["node", "esbuild.mjs", "--tests"], VSCODE_DIR)
    gateway = GatewayProcess(tmp_path)
    from nexus.gateway import UserStore

    UserStore(gateway.config / "gateway-users.json").add("vera", Role.VIEWER, "vera-password")
    gateway.start()
    try:
        async def seed() -> None:
            async with CollabClient(gateway.room("interop")) as client:
                client.insert(0, "from python é😀\n")
                await client.wait_acked()

        asyncio.run(seed())
        issuer = TokenIssuer(load_secret("", gateway.config / "gateway-secret"))
        env = {**gateway.env, "NEXUS_COLLAB_GATEWAY": gateway.url, "NEXUS_COLLAB_TOKEN": gateway.token(),
               "NEXUS_COLLAB_VIEWER_TOKEN": issuer.issue("vera", Role.VIEWER).token}
        proc = subprocess.run(["node", "--test", "--test-reporter=spec", "out/collab-test/"], cwd=VSCODE_DIR,
                              capture_output=True, text=True, timeout=120, env=env)
        assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
        assert "# fail 0" in proc.stdout.replace("ℹ", "#") and "# pass 5" in proc.stdout.replace("ℹ", "#"), proc.stdout

        async def check() -> str:
            async with CollabClient(gateway.room("interop")) as client:
                return client.source

        assert asyncio.run(check()) == "from python é!\nfrom node 😀\n"
    finally:
        gateway.stop()
