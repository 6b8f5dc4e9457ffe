"""AI over the extension: streamed ``ai:chat`` deltas on the WebSocket, the seed's processor endpoints over
REST, and a live kernel's variables in the prompt; the real SDKs talk to the local fake model server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_llm import FakeLLM, Reply

from .conftest import Fetch, api
from .test_websocket import connect


@pytest.fixture
def nexus_config(fake_llm: FakeLLM) -> dict[str, Any]:
    return {"providers": {"order": ["anthropic", "openai"], "max_retries": 0},
            "anthropic": {"base_url": fake_llm.base_url("anthropic"), "api_key": "test-key-not-secret"},
            "openai": {"base_url": fake_llm.base_url("openai"), "api_key": "test-key-not-secret"}}


async def test_ai_deltas_stream_and_can_carry_a_kernels_variables(
        jp_ws_fetch: Fetch, jp_fetch: Fetch, fake_llm: FakeLLM, workspace: Path) -> None:
    fake_llm.script("anthropic", Reply(chunks=("Hel", "lo ", "there")))
    sock = await connect(jp_ws_fetch)
    rid = await sock.send("ai:chat", {"prompt": "Say hello", "maxTokens": 50})
    deltas, done = await sock.until_final(rid, "ai:delta")
    assert [d["text"] for d in deltas] == ["Hel", "lo ", "there"]
    assert done["type"] == "ai:done" and done["data"]["response"] == "Hello there"
    assert done["data"]["usage"]["provider"] == "anthropic"

    kernel = json.loads((await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "python3"}))).body)
    status, ran = await api(jp_fetch, "execute", method="POST",
                            body={"kernelId": kernel["id"], "code": "sales = [3, 1, 4]\nregion = 'north'"})
    assert status == 200 and ran["exitCode"] == 0, ran
    fake_llm.script("anthropic", Reply(text="Sum it."))
    rid = await sock.send("ai:chat", {"prompt": "What can I do with my data?", "kernelId": kernel["id"],
                                      "system": "Be brief."})
    _, done = await sock.until_final(rid, "ai:delta")
    assert done["type"] == "ai:done", done
    system = json.dumps(fake_llm.requests[-1].json["system"])
    assert "Be brief." in system and "sales: list len=3 = [3, 1, 4]" in system and "region: str = 'north'" in system
    sock.ws.close()


