"""``context:create`` and ``context:stream`` on the gateway: the engine's context store behind the shared
handler modules (the Jupyter extension serves the same ones)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from nexus.engine import Workspace
from nexus.engine.config import Settings

from .wsclient import Client, client, error_code

Start = Callable[..., Any]


async def stream(c: Client, payload: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rid = await c.send("context:stream", payload)
    chunks = []
    while True:
        reply = await c.recv()
        assert reply["id"] == rid
        if reply["type"] != "context:chunk":
            return chunks, reply
        chunks.append(reply["data"])


async def test_upload_then_stream_back_in_chunks(start: Start) -> None:
    text = "".join(f"line {i}: élan {'x' * (i % 40)}\n" for i in range(4000))
    async with start() as gw, client(gw, "dave") as c:
        created = await c.request("context:create", {"content": text,
                                                     "metadata": {"type": "document", "source": "notes"}})
        assert created["type"] == "context:create", created
        info = created["data"]
        assert info["contextId"].startswith("ctx-") and info["compressed"] is True and info["tokenCount"] > 1000
        assert info["metadata"] == {"type": "document", "source": "notes"}
        chunks, end = await stream(c, {"contextId": info["contextId"], "chunkSize": 4096})
        assert "".join(ch["text"] for ch in chunks) == text
        assert [ch["index"] for ch in chunks] == list(range(len(chunks))) and len(chunks) > 10
        assert end["type"] == "context:end" and end["data"]["chunks"] == len(chunks)
        assert end["data"]["bytes"] == len(text.encode())

        too_big = await c.request("context:create", {"content": text, "maxTokens": 100})
        assert error_code(too_big) == "bad_request" and "100" in too_big["data"]["message"]
        missing = await c.request("context:stream", {"contextId": "ctx-00000000-0000-0000-0000-000000000000"})
        assert error_code(missing) == "not_found"
        for payload in ({}, {"content": ""}, {"content": "x", "metadata": "doc"}, {"contextId": "x"}):
            kind = "context:stream" if "contextId" in payload else "context:create"
            reply = await c.request(kind, payload)
            assert error_code(reply) in ("bad_request", "not_found"), (payload, reply)
    async with start() as gw, client(gw, "vera") as viewer:
        assert error_code(await viewer.request("context:create", {"content": "x"})) == "forbidden"


async def test_build_a_context_from_the_index(start: Start, workspace: Path) -> None:
    (workspace / "src" / "config.py").write_text(
        "def load_settings():\n    return {}\n\n\ndef get_config(name):\n    return load_settings()[name]\n")
    async with start() as gw, client(gw, "dave") as c:
        unindexed = await c.request("context:create", {"request": {"query": "get_config"}})
        assert error_code(unindexed) == "unavailable" and "nexus index" in unindexed["data"]["message"]
    with Workspace.open(workspace, Settings({})) as ws:
        ws.index()
    async with start() as gw, client(gw, "dave") as c:
        built = await c.request("context:create", {"request": {"query": "get_config", "budget": 2000}})
        assert built["type"] == "context:create", built
        assert 0 < built["data"]["tokenCount"] <= 2000
        chunks, end = await stream(c, {"contextId": built["data"]["contextId"]})
        text = "".join(ch["text"] for ch in chunks)
        assert 'path="src/config.py"' in text and "def get_config(name)" in text
        bad = await c.request("context:create", {"request": {"query": "x", "budget": 0}})
        assert error_code(bad) == "bad_request" and "budget" in bad["data"]["message"]
        both = await c.request("context:create", {"request": {"query": "x"}, "content": "y"})
        assert error_code(both) == "bad_request"
