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




async def test_processor_endpoints_return_the_seeds_shapes(jp_fetch: Fetch, fake_llm: FakeLLM, workspace: Path) -> None:
    fake_llm.script("anthropic", Reply(text="Quantum computing is..."))
    status, one = await api(jp_fetch, "processor", "claude", method="POST",
                            body={"prompt": "Explain quantum computing", "maxTokens": 100, "temperature": 0.7})
    assert status == 200, one
    assert one["response"] == "Quantum computing is..." and one["provider"] == "anthropic"
    assert one["tokensUsed"] > 0 and one["model"]
    assert fake_llm.requests[-1].prompt_text == "Explain quantum computing"

    fake_llm.script("anthropic", Reply(text="first answer"))
    fake_llm.script("openai", Reply(text="reviewed answer"))
    status, chain = await api(jp_fetch, "processor", "chain", method="POST",
                              body={"processors": ["claude", "gpt"], "prompt": "Analyze this code",
                                    "chainMode": "sequential"})
    assert status == 200, chain
    assert [(r["processor"], r["status"], r["response"]) for r in chain["results"]] == [
        ("claude", "ok", "first answer"), ("gpt", "ok", "reviewed answer")]
    assert chain["response"] == "reviewed answer" and chain["chainMode"] == "sequential"

    status, unknown = await api(jp_fetch, "processor", "nobody", method="POST", body={"prompt": "x"})
    assert (status, unknown["code"]) == (400, "bad_request") and "nobody" in unknown["message"]
    status, empty = await api(jp_fetch, "processor", "claude", method="POST", body={"prompt": ""})
    assert (status, empty["code"]) == (400, "bad_request")
    fake_llm.script("anthropic", Reply.error(429, retry_after=7))
    status, limited = await api(jp_fetch, "processor", "claude", method="POST", body={"prompt": "x"})
    assert (status, limited["code"], limited["retryAfter"]) == (429, "rate_limited", 7)
    fake_llm.script("anthropic", Reply.error(500, message="upstream exploded"))
    status, failed = await api(jp_fetch, "processor", "claude", method="POST", body={"prompt": "x"})
    assert (status, failed["code"], failed["provider"]) == (502, "failed", "anthropic")
    assert "test-key-not-secret" not in json.dumps(failed)


async def test_processor_prompt_can_include_a_kernels_variables(jp_fetch: Fetch, fake_llm: FakeLLM,
                                                                workspace: Path) -> None:
    kernel = json.loads((await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "python3"}))).body)
    status, ran = await api(jp_fetch, "execute", method="POST", body={"kernelId": kernel["id"], "code": "limit = 10"})
    assert status == 200 and ran["exitCode"] == 0
    fake_llm.script("anthropic", Reply(text="ok"))
    status, one = await api(jp_fetch, "processor", "claude", method="POST",
                            body={"prompt": "What is limit?", "kernelId": kernel["id"]})
    assert status == 200, one
    assert "limit: int = 10" in json.dumps(fake_llm.requests[-1].json["system"])
    status, missing = await api(jp_fetch, "processor", "claude", method="POST",
                                body={"prompt": "x", "kernelId": "no-such-kernel"})
    assert (status, missing["code"]) == (404, "not_found")


async def test_status_lists_the_configured_providers_without_secrets(jp_fetch: Fetch, workspace: Path) -> None:
    status, body = await api(jp_fetch, "status")
    assert status == 200 and body["providers"]["available"] is True
    names = {p["name"]: p for p in body["providers"]["providers"]}
    assert names["anthropic"]["configured"] and names["anthropic"]["baseUrl"].startswith("http://127.0.0.1:")
    assert "test-key-not-secret" not in json.dumps(body)
