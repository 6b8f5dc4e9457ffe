"""``context:create``, ``context:stream`` and workspace context in ``ai:chat``: the real context store of
the gateway's workspace, and the real provider SDKs against the local fake model server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from nexus.engine import Workspace
from nexus.engine.config import Settings
from nexus.engine.context import store_for
from nexus.engine.providers import ProviderRouter
from tests.support.fake_llm import FakeLLM, Reply, fake_llm  # noqa: F401 - the fixture

from .wsclient import client, error_code

Start = Callable[..., Any]
KEYS = {"ANTHROPIC_API_KEY": "gateway-test-key"}


@pytest.fixture
def project(workspace: Path) -> Path:
    (workspace / "src" / "config.py").write_text(
        'def get_config(name):\n    """Read one setting."""\n    return load_settings()[name]\n\n'
        "def load_settings():\n    return {'colour': 'blue'}\n")
    return workspace


def index(root: Path) -> None:
    with Workspace.open(root, Settings({})) as ws:
        ws.index()


def stored_ids(root: Path) -> list[str]:
    with Workspace.open(root, Settings({})) as ws:
        return [info.context_id for info in store_for(ws).contexts()]


@pytest.fixture
async def router(fake_llm: FakeLLM) -> AsyncIterator[ProviderRouter]:  # noqa: F811
    settings = Settings({"providers": {"max_retries": 0}, "anthropic": {"base_url": fake_llm.base_url("anthropic")}})
    yield ProviderRouter.from_settings(settings, env=KEYS)


async def collect_stream(c: Any, payload: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    stream_id = await c.send("context:stream", payload)
    chunks = []
    while True:
        reply = await c.recv()
        assert reply["id"] == stream_id, reply
        if reply["type"] == "context:chunk":
            chunks.append(reply["data"])
            continue
        assert reply["type"] == "context:end", reply
        return chunks, reply["data"]


async def test_an_uploaded_context_streams_back_exactly_in_chunks(start: Start, workspace: Path) -> None:
    content = "".join(f"line {i}: naïve café ☕ {'x' * (i % 50)}\n" for i in range(3000))
    async with start() as gw, client(gw, "dave") as c:
        created = await c.request("context:create", {"content": content, "metadata": {"type": "notes",
                                                                                      "source": "test"}})
        assert created["type"] == "context:create", created
        info = created["data"]
        assert info["contextId"].startswith("ctx-") and info["compressed"] is True
        assert info["tokenCount"] > 0 and info["metadata"] == {"type": "notes", "source": "test"}
        chunks, end = await collect_stream(c, {"contextId": info["contextId"], "chunkSize": 4096})
        assert "".join(chunks) == content
        assert len(chunks) > 10 and end == {"contextId": info["contextId"], "chunks": len(chunks),
                                             "bytes": len(content.encode()), "tokenCount": info["tokenCount"]}
        missing = await c.request("context:stream", {"contextId": "ctx-00000000-0000-0000-0000-000000000000"})
        assert error_code(missing) == "not_found"
    assert stored_ids(workspace) == [info["contextId"]]


async def test_bad_uploads_are_refused_and_store_nothing(start: Start, workspace: Path) -> None:
    async with start() as gw, client(gw, "dave") as c, client(gw, "vera") as viewer:
        too_big = await c.request("context:create", {"content": "word " * 5000, "maxTokens": 100})
        assert error_code(too_big) == "bad_request" and "100" in too_big["data"]["message"]
        for payload in ({}, {"content": 7}, {"content": "x", "build": {}}, {"content": "x", "metadata": "doc"},
                        {"content": "x", "maxTokens": 0}, {"content": "x", "metadata": {"type": ""}},
                        {"build": {"budget": 0}}, {"build": {"nope": 1}}):
            assert error_code(await c.request("context:create", payload)) == "bad_request", payload
        for payload in ({}, {"contextId": 5}, {"contextId": "ctx-x", "chunkSize": 1}):
            assert error_code(await c.request("context:stream", payload)) == "bad_request", payload
        assert error_code(await viewer.request("context:create", {"content": "x"})) == "forbidden"
    assert stored_ids(workspace) == []


async def test_a_context_built_from_the_index_carries_its_receipt(start: Start, project: Path) -> None:
    async with start() as gw, client(gw, "dave") as c:
        unindexed = await c.request("context:create", {"build": {"query": "get_config"}})
        assert error_code(unindexed) == "unavailable" and "nexus index" in unindexed["data"]["message"]
    index(project)
    async with start() as gw, client(gw, "dave") as c:
        built = await c.request("context:create", {"build": {"query": "load settings", "budget": 2000}})
        info = built["data"]
        assert info["metadata"]["source"] == "gateway" and info["tokenCount"] <= 2000
        assert any(r["path"] == "src/config.py" and r["lines"][0] >= 1 for r in info["receipt"]), info["receipt"]
        chunks, _ = await collect_stream(c, {"contextId": info["contextId"]})
        assert '<piece path="src/config.py"' in "".join(chunks) and "def load_settings" in "".join(chunks)


async def test_ai_chat_sends_a_stored_context_and_lists_it_in_the_receipt(
        start: Start, project: Path, router: ProviderRouter, fake_llm: FakeLLM) -> None:  # noqa: F811
    fake_llm.set_default(Reply(text="It reads one setting."), route="anthropic")
    async with start(providers=router) as gw, client(gw, "dave") as c:
        created = (await c.request("context:create", {"content": "The colour setting is blue.\n"}))["data"]
        chat_id = await c.send("ai:chat", {"prompt": "What colour?", "contextId": created["contextId"]})
        replies = [await c.recv() for _ in range(5)]
        done = replies[-1]
        assert [r["type"] for r in replies] == ["ai:delta"] * 4 + ["ai:done"] and done["id"] == chat_id
        assert done["data"]["contextId"] == created["contextId"]
        assert [(r["kind"], r["tokens"] > 0) for r in done["data"]["receipt"]] == [("upload", True)]
        sent = fake_llm.requests_to("anthropic")[-1].json
        assert "The colour setting is blue." in sent["system"] and sent["messages"][-1]["content"] == "What colour?"
        unknown = await c.request("ai:chat", {"prompt": "x", "contextId": "ctx-00000000-0000-0000-0000-000000000000"})
        assert error_code(unknown) == "not_found"
        both = await c.request("ai:chat", {"prompt": "x", "contextId": created["contextId"], "context": {}})
        assert error_code(both) == "bad_request"


async def test_ai_chat_grounds_the_prompt_in_the_index_on_request(
        start: Start, project: Path, router: ProviderRouter, fake_llm: FakeLLM) -> None:  # noqa: F811
    index(project)
    async with start(providers=router) as gw, client(gw, "dave") as c:
        done = await c.request("ai:chat", {"prompt": "Where is load_settings defined?", "context": {"budget": 3000},
                                           "system": "Be brief."})
        while done["type"] == "ai:delta":
            done = await c.recv()
        assert done["type"] == "ai:done", done
        receipt = done["data"]["receipt"]
        assert any(r["path"] == "src/config.py" for r in receipt) and all(r["tokens"] > 0 for r in receipt)
        system = fake_llm.requests_to("anthropic")[-1].json["system"]
        assert system.startswith("Be brief.\n\n") and '<piece path="src/config.py"' in system
        bad = await c.request("ai:chat", {"prompt": "x", "context": {"budget": -1}})
        assert error_code(bad) == "bad_request" and "budget" in bad["data"]["message"]
