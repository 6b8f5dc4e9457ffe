"""``ai:ask`` and ``ai:complete`` over the extension's WebSocket, as the JupyterLab panel and its inline
completer call them: streamed answers with a receipt, a fix's new cell text, ghost text, and without a
provider a retrieval-only answer that says how to configure one. The real SDKs talk to the fake model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_llm import FakeLLM, Reply

from .conftest import Fetch, api
from .test_websocket import connect

CELL = "from src.app import greet\nprint(greet(42) + 1)\n"
TRACEBACK = "TypeError: can only concatenate str (not \"int\") to str"


async def indexed(jp_fetch: Fetch) -> None:
    status, _ = await api(jp_fetch, "index", method="POST", body={})
    assert status == 200


async def test_without_a_provider_the_answer_is_retrieval_only_and_says_how_to_configure(
        jp_ws_fetch: Fetch, jp_fetch: Fetch, workspace: Path) -> None:
    await indexed(jp_fetch)
    sock = await connect(jp_ws_fetch)
    rid = await sock.send("ai:ask", {"prompt": "how do I greet someone?"})
    deltas, done = await sock.until_final(rid, "ai:delta")
    assert done["type"] == "ai:answer", done
    answer = done["data"]
    assert answer["generated"] is False and "ANTHROPIC_API_KEY" in answer["response"]
    assert "".join(d["text"] for d in deltas) == answer["response"]
    assert [p["path"] for p in answer["receipt"]["pieces"]][:1] == ["src/app.py"], answer["receipt"]

    rid = await sock.send("ai:ask", {"task": "docstring", "document": {"path": "nb.ipynb", "text": CELL,
                                                                      "language": "python"}})
    _, refused = await sock.until_final(rid, "ai:delta")
    assert refused["type"] == "error" and refused["data"]["code"] == "unavailable", refused
    assert "ANTHROPIC_API_KEY" in refused["data"]["message"]

    rid = await sock.send("ai:complete", {"document": {"path": "nb.ipynb", "text": "gre"}, "cursor": [0, 3]})
    _, completion = await sock.until_final(rid, "ai:delta")
    assert completion["data"] == {"text": None, "available": False}
    sock.ws.close()


class TestWithAModel:
    @pytest.fixture
    def nexus_config(self, fake_llm: FakeLLM) -> dict[str, Any]:
        return {"providers": {"order": ["anthropic"], "max_retries": 0},
                "anthropic": {"base_url": fake_llm.base_url("anthropic"), "api_key": "test-key-not-secret"}}

    async def test_explain_streams_with_its_receipt(self, jp_ws_fetch: Fetch, jp_fetch: Fetch, fake_llm: FakeLLM,
                                                    workspace: Path) -> None:
        await indexed(jp_fetch)
        fake_llm.script("anthropic", Reply(chunks=("It ", "adds ", "an int to a str.")))
        sock = await connect(jp_ws_fetch)
        rid = await sock.send("ai:ask", {"task": "explain", "document": {"path": "nb.ipynb", "text": CELL,
                                                                        "language": "python"}})
        deltas, done = await sock.until_final(rid, "ai:delta")
        assert [d["text"] for d in deltas] == ["It ", "adds ", "an int to a str."]
        answer = done["data"]
        assert done["type"] == "ai:answer" and answer["generated"] is True and answer["provider"] == "anthropic"
        assert "src/app.py" in {p["path"] for p in answer["receipt"]["pieces"]}, answer["receipt"]
        assert "print(greet(42) + 1)" in fake_llm.requests[-1].prompt_text
        sock.ws.close()

    async def test_fix_returns_the_cells_new_text(self, jp_ws_fetch: Fetch, fake_llm: FakeLLM,
                                                 workspace: Path) -> None:
        fixed = "from src.app import greet\nprint(greet(str(42)))\n"
        fake_llm.script("anthropic", Reply(text=f"Convert first:\n```python\n{fixed}```\n"))
        sock = await connect(jp_ws_fetch)
        rid = await sock.send("ai:ask", {"task": "fix", "error": TRACEBACK,
                                         "document": {"path": "nb.ipynb", "text": CELL, "language": "python"}})
        _, done = await sock.until_final(rid, "ai:delta")
        assert done["type"] == "ai:answer", done
        assert done["data"]["edit"] == fixed, done["data"]
        assert "can only concatenate str" in fake_llm.requests[-1].prompt_text
        sock.ws.close()

    async def test_complete_gives_the_text_to_insert(self, jp_ws_fetch: Fetch, fake_llm: FakeLLM,
                                                    workspace: Path) -> None:
        fake_llm.script("anthropic", Reply(text="et('world')"))
        sock = await connect(jp_ws_fetch)
        rid = await sock.send("ai:complete", {"document": {"path": "nb.ipynb", "text": "from src.app import greet\ngr",
                                                           "language": "python"}, "cursor": [1, 2]})
        _, done = await sock.until_final(rid, "ai:delta")
        assert done["type"] == "ai:complete" and done["data"] == {"text": "et('world')", "available": True}, done
        sock.ws.close()


async def test_bad_requests_say_what_is_missing(jp_ws_fetch: Fetch, workspace: Path) -> None:
    sock = await connect(jp_ws_fetch)
    for payload, words in (({"prompt": "  "}, "payload.prompt"), ({"task": "explain"}, "payload.document"),
                           ({"task": "fix", "document": {"path": "a.py", "text": "x"}}, "payload.error")):
        rid = await sock.send("ai:ask", payload)
        _, reply = await sock.until_final(rid, "ai:delta")
        assert reply["type"] == "error" and reply["data"]["code"] == "bad_request", reply
        assert words in reply["data"]["message"]
    sock.ws.close()
