"""Gateway ``ai:agent``: the agent's items stream as messages, the proposal arrives verified, and the file
changes only with ``edit:apply``; a viewer may not run it."""

from __future__ import annotations

from pathlib import Path

import pytest

from nexus.engine.providers import ProviderRouter, load_providers_config
from nexus.gateway import GatewaySettings, UserStore
from nexus.services import Role
from tests.gateway.wsclient import client, create, error_code
from tests.providers.conftest import KEY_ENV, provider_settings
from tests.support.fake_llm import FakeLLM, Reply

from .conftest import CALC, FIX


@pytest.mark.timeout(180)
async def test_ai_agent_over_the_gateway(repo: Path, tmp_path: Path, fake_llm: FakeLLM) -> None:
    users = UserStore(tmp_path / "users.json")
    users.add("dave", Role.DEVELOPER, "a-long-password")
    users.add("vera", Role.VIEWER, "another-long-password")
    settings = GatewaySettings(host="127.0.0.1", port=0, users_file=tmp_path / "users.json", secret="s" * 32,
                               ping_interval=0, shutdown_grace=1.0)
    router = ProviderRouter(load_providers_config(provider_settings(fake_llm, max_retries=0), env=KEY_ENV))
    gw = create(settings, repo, providers=router)
    await gw.start()
    fake_llm.script("anthropic", Reply.tools(("files_read", {"path": "calc.py"}), text="Reading. "),
                    Reply.tools(("edit_propose", FIX)), Reply(text="Proposed."))
    try:
        async with client(gw, "dave") as c:
            request_id = await c.send("ai:agent", {"task": "fix test_add", "provider": "anthropic"})
            kinds = []
            while (reply := await c.recv())["type"] != "agent:done":
                assert reply["id"] == request_id and reply["type"] in ("agent:delta", "agent:step"), reply
                kinds.append(reply["type"])
            assert kinds == ["agent:delta", "agent:step", "agent:step", "agent:delta"]
            done = reply["data"]
            assert done["stopReason"] == "answered" and done["proposals"][0]["verification"]["verified"]
            assert (repo / "calc.py").read_text() == CALC
            applied = await c.request("edit:apply", {"edits": done["proposals"][0]["edits"]})
            assert applied["data"] == {"paths": ["calc.py"]} and "a + b" in (repo / "calc.py").read_text()
        async with client(gw, "vera") as viewer:
            assert error_code(await viewer.request("ai:agent", {"task": "x"})) == "forbidden"
            assert error_code(await viewer.request("edit:apply", {"edits": FIX["edits"]})) == "forbidden"
    finally:
        await gw.stop(grace=0)
        await router.aclose()


