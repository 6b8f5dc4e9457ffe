"""The agent end to end: a failing test in a fixture repository, a scripted model (the real Anthropic and
OpenAI SDKs against the local fake server) that finds the cause with tools and proposes a fix; the fix is
verified by running the test in an overlay, and the user's file changes only when the proposal is applied."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nexus.services import Call, Registry
from tests.support.fake_llm import FakeLLM, Reply

from .conftest import CALC, FIX, run


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
@pytest.mark.timeout(180)
async def test_the_agent_finds_the_bug_and_proposes_a_verified_fix(provider: str, repo: Path, fake_llm: FakeLLM,
                                                                  agent_call: Call) -> None:
    fake_llm.script(provider,
                    Reply.tools(("search", {"query": "add", "mode": "symbols"}), text="Looking for add."),
                    Reply.tools(("files_read", {"path": "calc.py"}), ("files_range", {"path": "tests/test_calc.py",
                                                                                     "startLine": 1, "endLine": 6})),
                    Reply.tools(("edit_propose", FIX)),
                    Reply(text="add() subtracted; I proposed `a + b`, verified by the tests."))
    items, done = await run(agent_call, {"task": "test_add fails: why? fix it", "provider": provider})

    assert done["stopReason"] == "answered", done
    assert done["answer"] == "add() subtracted; I proposed `a + b`, verified by the tests."
    assert [s["tool"] for s in done["steps"]] == ["search", "files_read", "files_range", "edit_propose"]
    assert all(s["ok"] for s in done["steps"]), done["steps"]
    assert done["steps"][0]["summary"].startswith("2 hits (calc.py:1")
    assert [k for k, _ in items if k == "agent:step"] == ["agent:step"] * 4
    assert "".join(d["text"] for k, d in items if k == "agent:delta").startswith("Looking for add.")
    assert len(done["turns"]) == 4 and done["inputTokens"] > 0

    # What the model was shown is what the operations returned.
    requests = fake_llm.requests_to(provider)
    second = json.dumps(requests[1].json)
    assert "calc.py" in second and "add" in second
    third = json.dumps(requests[2].json)
    assert "return a - b" in third  # files_read's content went back as a tool result

    [proposal] = done["proposals"]
    assert proposal["verification"]["verified"] is True
    assert proposal["verification"]["summary"] == "verified: 3 passed (pytest, exit 0)"
    assert "+    return a + b" in proposal["changes"][0]["diff"]
    assert (repo / "calc.py").read_text() == CALC  # nothing written before acceptance

    # The user accepts: the client applies the proposal's edits.
    applied = await Registry.default().result("edit.apply", {"edits": proposal["edits"]}, agent_call)
    assert applied == {"paths": ["calc.py"]}
    assert "return a + b" in (repo / "calc.py").read_text()
    tests = await Registry.default().result("tests.run", {}, agent_call)
    assert tests["exitCode"] == 0 and tests["passed"] == 3


async def test_a_fix_that_breaks_a_test_is_not_verified(repo: Path, fake_llm: FakeLLM, agent_call: Call) -> None:
    wrong = {"edits": [{"path": "calc.py", "oldText": "return a * b", "newText": "return a + b"}]}
    fake_llm.script("anthropic", Reply.tools(("edit_propose", wrong)), Reply(text="done"))
    _, done = await run(agent_call, {"task": "fix", "provider": "anthropic"})
    [proposal] = done["proposals"]
    assert proposal["verification"]["verified"] is False
    assert proposal["verification"]["summary"].startswith("not verified: ")
    assert "failed" in proposal["verification"]["summary"]
    assert "test_mul" in proposal["verification"]["testOutput"]
    assert (repo / "calc.py").read_text() == CALC


async def test_bad_tool_calls_go_back_to_the_model_as_errors(repo: Path, tmp_path: Path, fake_llm: FakeLLM,
                                                            agent_call: Call) -> None:
    outside = {"edits": [{"path": "../evil.py", "oldText": "", "newText": "print('pwned')"}]}
    stale = {"edits": [{"path": "calc.py", "oldText": "return a // b", "newText": "return 0"}]}
    fake_llm.script("anthropic",
                    Reply.tools(("no_such_tool", {}), ("search", "{not json"), ("search", {"query": 7}),
                                ("execute", {"code": "print(1)"}), ("edit_propose", outside), ("edit_propose", stale),
                                ("files_read", {"path": "/etc/passwd"})),
                    Reply(text="I could not do it."))
    _, done = await run(agent_call, {"task": "try things", "provider": "anthropic"})
    steps = done["steps"]
    assert done["stopReason"] == "answered" and [s["ok"] for s in steps] == [False] * 7
    assert steps[0]["summary"].startswith("unknown_type: unknown tool 'no_such_tool'")
    assert "not a JSON object" in steps[1]["summary"]
    assert "payload.query must be a string" in steps[2]["summary"]
    assert "needs the execute permission" in steps[3]["summary"]  # allow=edit: execute is not offered
    assert "outside the workspace" in steps[4]["summary"]
    assert "no longer applies" in steps[5]["summary"]
    assert steps[6]["summary"].startswith("invalid_path")
    assert not (tmp_path / "evil.py").exists() and (repo / "calc.py").read_text() == CALC
    results = fake_llm.requests_to("anthropic")[1].json["messages"][-1]["content"]
    assert [r["is_error"] for r in results] == [True] * 7  # every error reached the model


async def test_a_model_that_loops_is_stopped(repo: Path, fake_llm: FakeLLM, agent_call: Call) -> None:
    fake_llm.set_default(Reply.tools(("search", {"query": "add"})), route="anthropic")
    _, done = await run(agent_call, {"task": "loop", "provider": "anthropic", "maxSteps": 30})
    assert done["stopReason"] == "loop"
    assert [s["ok"] for s in done["steps"]] == [True, True, False, False]
    assert len(fake_llm.requests_to("anthropic")) == 5


async def test_the_step_limit_ends_the_run(repo: Path, fake_llm: FakeLLM, agent_call: Call) -> None:
    for n in range(5):
        fake_llm.script("openai", Reply.tools(("files_range", {"path": "calc.py", "startLine": n + 1})))
    _, done = await run(agent_call, {"task": "read", "provider": "openai", "maxSteps": 3})
    assert done["stopReason"] == "max_steps" and len(done["turns"]) == 3 and len(done["steps"]) == 3


async def test_a_rate_limit_mid_loop_ends_the_run_with_the_receipts(repo: Path, fake_llm: FakeLLM,
                                                                   agent_call: Call) -> None:
    fake_llm.script("anthropic", Reply.tools(("status", {})), Reply.error(429, retry_after=30))
    _, done = await run(agent_call, {"task": "status?", "provider": "anthropic"})
    assert done["stopReason"] == "error" and done["error"]["code"] == "rate_limited"
    assert done["error"]["retryAfter"] == 30
    assert [s["tool"] for s in done["steps"]] == ["status"]


async def test_a_cut_stream_mid_loop_ends_the_run(repo: Path, fake_llm: FakeLLM, agent_call: Call) -> None:
    fake_llm.script("openai", Reply.tools(("status", {})), Reply(text="one two three four", cut_after=2))
    _, done = await run(agent_call, {"task": "status?", "provider": "openai"})
    assert done["stopReason"] == "error" and done["error"]["code"] == "failed"
    assert len(done["steps"]) == 1


@pytest.mark.timeout(120)
async def test_a_tool_that_hangs_is_timed_out_and_stopped(repo: Path, fake_llm: FakeLLM, agent_call: Call) -> None:
    (repo / "tests" / "test_slow.py").write_text("import time\n\n\ndef test_slow():\n    time.sleep(600)\n")
    fake_llm.script("anthropic", Reply.tools(("tests_run", {"paths": ["tests/test_slow.py"]})), Reply(text="slow"))
    _, done = await run(agent_call, {"task": "run the slow test", "provider": "anthropic", "allow": "execute",
                                     "toolSeconds": 3})
    [step] = done["steps"]
    assert not step["ok"] and "did not finish within 3 s" in step["summary"]
    assert done["answer"] == "slow"
