"""nexus.nvim's live sessions in headless Neovim 0.11 against a real ``nexus gateway``, with a pycrdt
peer in the same room (tests/editors/nvim/collab_spec.lua says what it checks)."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from pathlib import Path

import pytest

from nexus.cli.collab_client import CollabClient
from tests.editors.conftest import server_command
from tests.editors.test_neovim import run_spec

from .process import GatewayProcess

pytestmark = pytest.mark.timeout(300)


class Peer(threading.Thread):
    """A pycrdt client on its own event loop that answers the Neovim side."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.stop = threading.Event()
        self.final = ""
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:  # reported by the test
            self.error = exc

    async def _run(self) -> None:
        async with CollabClient(self.url) as client:
            await client.wait_for(lambda c: "from_nvim" in c.source, timeout=60)
            client.insert(len(client.source), "\nfrom_python = 3")
            client.set_presence({"cursor": {"anchor": {"tname": "source", "assoc": 0}, "head": None}})
            anchor = client.text.sticky_index(0).to_json()
            client.set_presence({"cursor": {"anchor": {"tname": "source", **anchor},
                                            "head": {"tname": "source", **anchor}}})
            await client.wait_for(lambda c: "# burst 20" in c.source, timeout=60)
            client.insert(len(client.source), "\n# peer saw the burst\ndef collaborator_helper():\n    return 1\n")
            await client.wait_acked()
            while not self.stop.is_set():
                await asyncio.sleep(0.05)
            self.final = client.source


def test_neovim_shares_joins_and_saves(tmp_path: Path) -> None:
    gateway = GatewayProcess(tmp_path)
    (gateway.root / "src").mkdir()
    (gateway.root / "src" / "shared.py").write_text("x = 1\n")
    gateway.start()
    peer = Peer(gateway.room("src/shared.py"))
    peer.start()
    try:
        env = {**gateway.env, "NEXUS_COLLAB_GATEWAY": gateway.url, "NEXUS_COLLAB_TOKEN": gateway.token(),
               "NEXUS_TEST_SERVER_CMD": json.dumps(server_command()),
               "NEXUS_TEST_HELPER_CMD": json.dumps([sys.executable, "-m", "nexus.cli", "collab", "helper"])}
        records = run_spec("collab_spec", tmp_path / "nvim-home", gateway.root, env=env, timeout=200)
        failed = [r for r in records if r["outcome"] != "passed"]
        assert not failed and len(records) == 7, json.dumps(failed or records, indent=1)[-6000:]
    finally:
        peer.stop.set()
        peer.join(30)
        gateway.stop()
    assert peer.error is None, peer.error
    assert "from_python = 3" in peer.final and "# burst 1\n" in peer.final
    assert peer.final.startswith("# burst 20\n") and "\n# peer saw the burst\n" in peer.final
    # The file's final newline survived sharing: the buffer models it with 'eol'.
    assert "x = 1\nfrom_nvim = 'é😀'\n" in peer.final
