"""LSP ``nexus/agent`` on the real `nexus lsp` subprocess: the steps stream as partial results, the result
carries the verified proposal, and the file changes only when the client applies it (``nexus/edit.apply``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.assistant.conftest import model_env
from tests.assistant.session import Session
from tests.support.fake_llm import FakeLLM, Reply

from .conftest import CALC, FIX


@pytest.mark.timeout(180)
async def test_nexus_agent_streams_steps_and_proposes(repo: Path, fake_llm: FakeLLM) -> None:
    fake_llm.script("anthropic", Reply.tools(("search", {"query": "add", "mode": "symbols"}), text="Searching. "),
                    Reply.tools(("files_read", {"path": "calc.py"})), Reply.tools(("edit_propose", FIX)),
                    Reply(text="Fixed in the proposal."))
    session = Session(repo, model_env(fake_llm, repo.parent))
    await session.start()
    try:
        result = await session.request("nexus/agent", {"task": "why does test_add fail?", "provider": "anthropic",
                                                       "partialResultToken": "agent-1"})
        partials = session.partials["agent-1"]
        assert [p["kind"] for p in partials if p["kind"] == "agent:step"] == ["agent:step"] * 3
        assert [p["data"]["tool"] for p in partials if p["kind"] == "agent:step"] == [
            "search", "files_read", "edit_propose"]
        assert partials[0] == {"kind": "agent:delta", "data": {"text": "Searching. "}}
        assert result["stopReason"] == "answered" and result["answer"] == "Fixed in the proposal."
        [proposal] = result["proposals"]
        assert proposal["verification"]["verified"] is True
        assert (repo / "calc.py").read_text() == CALC
        applied = await session.request("nexus/edit.apply", {"edits": proposal["edits"]})
        assert applied["paths"] == ["calc.py"] and "return a + b" in (repo / "calc.py").read_text()
    finally:
        await session.stop()
