"""The types backed by other subsystems, end to end: ``search:query`` on a real index of the workspace,
``ai:chat`` and ``processor:chain`` through the real provider SDKs against the local fake model server."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from nexus.engine import Workspace
from nexus.engine.config import Settings
from nexus.engine.providers import ProviderRouter
from tests.support.fake_llm import FakeLLM, Reply, fake_llm  # noqa: F401 - the fixture

from .wsclient import client, error_code

Start = Callable[..., Any]
KEYS = {"ANTHROPIC_API_KEY": "gateway-test-key", "OPENAI_API_KEY": "gateway-test-key"}


def index(root: Path) -> None:
    with Workspace.open(root, Settings({})) as ws:
        ws.index()


@pytest.fixture
def project(workspace: Path) -> Path:
    (workspace / "src" / "config.py").write_text(
        'def get_config(name):\n    """Read one setting."""\n    return load_settings()[name]\n\n'
        "def load_settings():\n    return {}\n")
    (workspace / "web").mkdir()
    (workspace / "web" / "client.ts").write_text("export function fetchUser(id: number) {\n  return id;\n}\n")
    return workspace


async def test_search_needs_an_index_then_finds_code_and_symbols(start: Start, project: Path) -> None:
    async with start() as gw, client(gw, "vera") as c:
        missing = await c.request("search:query", {"query": "get_config"})
        assert error_code(missing) == "unavailable" and "nexus index" in missing["data"]["message"]
    index(project)
    async with start() as gw, client(gw, "vera") as c:
        text = await c.request("search:query", {"query": "load settings"})
        assert text["type"] == "search:query"
        assert text["data"]["hits"][0]["path"] == "src/config.py" and text["data"]["hits"][0]["line"] >= 1
        symbols = await c.request("search:query", {"query": "getConfig", "mode": "symbols"})
        assert [(h["name"], h["kind"], h["line"]) for h in symbols["data"]["hits"]][0] == ("get_config", "function", 1)
        only_ts = await c.request("search:query", {"query": "fetchUser", "languages": ["ts"], "limit": 5})
        assert {h["path"] for h in only_ts["data"]["hits"]} == {"web/client.ts"}
        for payload in ({"query": ""}, {"query": "x", "mode": "regex"}, {"query": "x", "limit": 0},
                        {"query": "x", "languages": ["cobol"]}, {"query": "x", "languages": "py"}):
            assert error_code(await c.request("search:query", payload)) == "bad_request", payload


async def test_search_sees_what_another_process_indexes_while_it_runs(start: Start, project: Path) -> None:
    index(project)
    async with start() as gw, client(gw, "vera") as c:
        assert (await c.request("search:query", {"query": "frobnicate", "mode": "symbols"}))["data"]["hits"] == []
        (project / "src" / "extra.py").write_text("def frobnicate():\n    pass\n")
        done = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "nexus.cli", "index", str(project)], env=dict(os.environ),
            capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        hits = (await c.request("search:query", {"query": "frobnicate", "mode": "symbols"}))["data"]["hits"]
        assert [(h["path"], h["name"]) for h in hits] == [("src/extra.py", "frobnicate")]


@pytest.fixture
async def router(fake_llm: FakeLLM) -> AsyncIterator[ProviderRouter]:  # noqa: F811
    settings = Settings({"providers": {"order": ["anthropic", "openai"], "max_retries": 0},
                         "anthropic": {"base_url": fake_llm.base_url("anthropic")},
                         "openai": {"base_url": fake_llm.base_url("openai")}})
    yield ProviderRouter.from_settings(settings, env=KEYS)


async def test_ai_chat_streams_deltas_then_usage(start: Start, router: ProviderRouter, fake_llm: FakeLLM) -> None:  # noqa: F811
    fake_llm.script("anthropic", Reply(chunks=("Hel", "lo ", "there")))
    async with start(providers=router) as gw, client(gw, "dave") as c:
        chat_id = await c.send("ai:chat", {"messages": [{"role": "user", "content": "Say hello"}], "maxTokens": 50})
        replies = [await c.recv() for _ in range(4)]
        assert [(r["type"], r["id"]) for r in replies] == [("ai:delta", chat_id)] * 3 + [("ai:done", chat_id)]
        assert "".join(r["data"]["text"] for r in replies[:3]) == "Hello there"
        done = replies[3]["data"]
        # grounded on every face: the receipt is always there, and says why it is empty here
        assert done["response"] == "Hello there" and done["receipt"]["pieces"] == []
        assert "no index" in done["receipt"]["note"]
        assert done["usage"]["provider"] == "anthropic" and done["usage"]["outputTokens"] > 0
        assert fake_llm.requests[-1].prompt_text == "Say hello"
        assert gw.metrics.tokens_used.get("anthropic", "output") == done["usage"]["outputTokens"]
        refused = await c.request("ai:chat", {"prompt": "x", "contextId": "ctx-1"})
        assert error_code(refused) == "not_found" and "ctx-1" in refused["data"]["message"]
        stored = await c.request("context:create", {"content": "The launch code is 4217.", "metadata": {"source": "t"}})
        context_id = stored["data"]["contextId"]
        fake_llm.script("anthropic", Reply(text="4217"))
        chat_id = await c.send("ai:chat", {"prompt": "What is the launch code?", "contextId": context_id,
                                           "system": "Answer briefly."})
        while (reply := await c.recv())["type"] == "ai:delta":
            assert reply["id"] == chat_id
        assert reply["type"] == "ai:done" and reply["data"]["response"] == "4217"
        receipt = reply["data"]["receipt"]
        assert receipt["contextId"] == context_id and receipt["tokenCount"] == stored["data"]["tokenCount"]
        assert [p["kind"] for p in receipt["pieces"]] == ["upload"]
        system = json.dumps(fake_llm.requests[-1].json["system"])
        assert "Answer briefly." in system and "The launch code is 4217." in system
        for payload in ({}, {"prompt": "x", "maxTokens": 0}, {"prompt": "x", "role": "poet"},
                        {"prompt": "x", "provider": "nobody"}, {"prompt": "x", "fallback": "yes"}):
            assert error_code(await c.request("ai:chat", payload)) == "bad_request", payload
    async with start(providers=None) as gw, client(gw, "vera") as viewer:
        assert error_code(await viewer.request("ai:chat", {"prompt": "x"})) == "forbidden"


async def test_cancelling_ai_chat_stops_the_upstream_call(start: Start, router: ProviderRouter,
                                                         fake_llm: FakeLLM) -> None:  # noqa: F811
    fake_llm.script("anthropic", Reply(chunks=tuple(f"w{i} " for i in range(200)), chunk_interval=0.05))
    async with start(providers=router) as gw, client(gw, "dave") as c:
        chat_id = await c.send("ai:chat", {"prompt": "talk for a while"})
        first = await c.recv()
        assert first["type"] == "ai:delta"
        cancel_id = await c.send("cancel", {"id": chat_id})
        seen: dict[tuple[Any, str], dict[str, Any]] = {}
        while (chat_id, "error") not in seen or (cancel_id, "cancel") not in seen:
            reply = await c.recv()
            seen[(reply["id"], reply["type"])] = reply
        assert seen[(chat_id, "error")]["data"]["code"] == "cancelled"
        upstream = fake_llm.requests[-1]
        assert await asyncio.to_thread(upstream.disconnected.wait, 10)
        assert not upstream.completed and upstream.chunks_sent < 200


async def test_a_failing_provider_is_reported_not_hidden(start: Start, router: ProviderRouter,
                                                         fake_llm: FakeLLM) -> None:  # noqa: F811
    fake_llm.script("anthropic", Reply.error(429, retry_after=7))
    async with start(providers=router) as gw, client(gw, "dave") as c:
        limited = await c.request("ai:chat", {"prompt": "x", "provider": "anthropic", "fallback": False})
        assert error_code(limited) == "rate_limited" and limited["data"]["retryAfter"] == 7
        fake_llm.script("anthropic", Reply.error(500, message="upstream exploded"))
        failed = await c.request("ai:chat", {"prompt": "x", "provider": "anthropic", "fallback": False})
        assert error_code(failed) == "failed" and failed["data"]["provider"] == "anthropic"


async def test_processor_chain_runs_each_step(start: Start, router: ProviderRouter, fake_llm: FakeLLM) -> None:  # noqa: F811
    fake_llm.script("anthropic", Reply(text="first answer"))
    fake_llm.script("openai", Reply(text="reviewed answer"))
    async with start(providers=router) as gw, client(gw, "dave") as c:
        done = await c.request("processor:chain", {"processors": ["anthropic", "openai"], "prompt": "Analyze this",
                                                   "chainMode": "sequential"})
        assert done["type"] == "ai:done"
        assert [(r["processor"], r["status"], r["response"]) for r in done["data"]["results"]] == [
            ("anthropic", "ok", "first answer"), ("openai", "ok", "reviewed answer")]
        assert done["data"]["response"] == "reviewed answer"
        assert "first answer" in fake_llm.requests[-1].prompt_text
        assert gw.metrics.tokens_used.get("openai", "output") > 0
        bad = await c.request("processor:chain", {"processors": [], "prompt": "x"})
        assert error_code(bad) == "bad_request" and "processors" in bad["data"]["message"]


async def test_ai_chat_is_grounded_in_the_indexed_workspace(start: Start, router: ProviderRouter, project: Path,
                                                            fake_llm: FakeLLM) -> None:  # noqa: F811
    """The gateway's ai:chat answers from the workspace as `nexus ask` and the LSP's nexus/chat do."""
    index(project)
    fake_llm.script("anthropic", Reply(chunks=("It is in src/config.py",)))
    async with start(providers=router) as gw, client(gw, "dave") as c:
        chat_id = await c.send("ai:chat", {"prompt": "where is get_config defined and what does it read?"})
        replies = [await c.recv() for _ in range(2)]
    assert [(r["type"], r["id"]) for r in replies] == [("ai:delta", chat_id), ("ai:done", chat_id)]
    receipt = replies[1]["data"]["receipt"]
    assert "src/config.py" in {piece["path"] for piece in receipt["pieces"]}, receipt
    assert receipt["tokenCount"] > 0 and all(p["startLine"] >= 1 for p in receipt["pieces"])
    system = fake_llm.requests[-1].json.get("system")
    system_text = system if isinstance(system, str) else json.dumps(system)
    assert "def get_config" in system_text and "<workspace_context>" in system_text
