"""`nexus acp` driven by the `agent-client-protocol` package's own client over stdio: the agent's text and
tool calls arrive as session updates, a tool above the allowed level and the proposed edit each ask the
client, and the user's file changes only when the client picks Apply."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from acp import PROTOCOL_VERSION, text_block
from acp.schema import AllowedOutcome, DeniedOutcome, RequestPermissionResponse
from acp.stdio import spawn_agent_process

from tests.agent.conftest import CALC, FIX, make_repo
from tests.assistant.conftest import model_env
from tests.support.fake_llm import FakeLLM, Reply, fake_llm  # noqa: F401  (the fixture)


class Recorder:
    """A client: records updates, answers permission requests from a script of option ids."""

    def __init__(self, answers: list[str | None]) -> None:
        self.updates: list[Any] = []
        self.asked: list[Any] = []
        self.answers = answers

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.updates.append(update)

    async def request_permission(self, session_id: str, tool_call: Any, options: list[Any],
                                 **kwargs: Any) -> RequestPermissionResponse:
        self.asked.append(tool_call)
        answer = self.answers.pop(0)
        if answer is None:
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        return RequestPermissionResponse(outcome=AllowedOutcome(outcome="selected", option_id=answer))

    def text(self) -> str:
        return "".join(u.content.text for u in self.updates if u.session_update == "agent_message_chunk")

    def tool_calls(self) -> list[Any]:
        return [u for u in self.updates if u.session_update == "tool_call_update"]


def script(fake: FakeLLM) -> None:
    fake.script("anthropic",
                Reply.tools(("files_read", {"path": "calc.py"}), text="Reading. "),
                Reply.tools(("tests_run", {"paths": ["tests/test_calc.py"]})),
                Reply.tools(("edit_propose", FIX)),
                Reply(text="add() subtracted."))


async def prompt(repo: Path, env: dict[str, str], client: Recorder) -> Any:
    async with spawn_agent_process(client, sys.executable, "-m", "nexus.cli", "acp", env=env, cwd=str(repo)) \
            as (conn, _process):
        init = await conn.initialize(protocol_version=PROTOCOL_VERSION)
        assert init.agent_info is not None and init.agent_info.name == "nexus"
        session = await conn.new_session(cwd=str(repo))
        return await conn.prompt(session_id=session.session_id, prompt=[text_block("test_add fails. Fix it.")])


@pytest.mark.timeout(240)
async def test_acp_client_drives_the_agent_and_applies_on_request(tmp_path: Path, fake_llm: FakeLLM) -> None:  # noqa: F811
    repo = make_repo(tmp_path / "repo")
    env = model_env(fake_llm, tmp_path)
    script(fake_llm)
    client = Recorder(["allow", "apply"])  # run the tests: yes; apply the edit: yes
    response = await prompt(repo, env, client)
    assert response.stop_reason == "end_turn"
    assert client.text().startswith("Reading. add() subtracted.") and "Applied to calc.py." in client.text()
    assert [c.status for c in client.tool_calls()] == ["completed", "completed", "completed"]
    assert client.asked[0].title.startswith("tests_run") and client.asked[0].kind == "execute"
    edit = client.asked[1]
    assert edit.kind == "edit" and "verified: 3 passed" in edit.title
    assert edit.content[0].type == "diff" and "a + b" in edit.content[0].new_text
    assert "return a + b" in (repo / "calc.py").read_text()


@pytest.mark.timeout(240)
async def test_a_refused_permission_runs_nothing_and_writes_nothing(tmp_path: Path,
                                                                    fake_llm: FakeLLM) -> None:  # noqa: F811
    repo = make_repo(tmp_path / "repo")
    script(fake_llm)
    client = Recorder(["reject", None])  # no to the tests, dismiss the edit
    response = await prompt(repo, model_env(fake_llm, tmp_path), client)
    assert response.stop_reason == "end_turn"
    statuses = [c.status for c in client.tool_calls()]
    assert statuses == ["completed", "failed", "completed"]  # tests_run refused; the proposal still verified
    assert "Edit not applied." in client.text()
    assert (repo / "calc.py").read_text() == CALC
