"""Native tool calling through each provider's real SDK: the tools go out in the protocol's shape, the
model's calls come back parsed, and the results go back in the next turn."""

from __future__ import annotations

import pytest

from nexus.engine.providers import Message, Request, ToolCall, ToolResult, ToolSpec
from tests.support.fake_llm import FakeLLM, Reply

from .conftest import PROVIDERS, RouterFactory

SEARCH = ToolSpec("search", "Ranked code search", {"type": "object", "properties": {"query": {"type": "string"}},
                                                   "required": ["query"]})


@pytest.mark.parametrize("name", PROVIDERS)
async def test_tool_calls_round_trip(name: str, fake_llm: FakeLLM, make_router: RouterFactory) -> None:
    fake_llm.script(name, Reply.tools(("search", {"query": "retry"}), ("search", "{not json"), text="Looking."),
                    Reply(text="Found it."))
    router = make_router()
    first = Request(prompt="where is retry?", tools=(SEARCH,))
    async with router.stream(first, provider=name) as answer:
        text = "".join([d async for d in answer])
    assert answer.usage is not None
    calls = answer.usage.tool_calls
    assert text == "Looking." and [c.name for c in calls] == ["search", "search"]
    assert calls[0].arguments == {"query": "retry"} and calls[0].id
    assert calls[1].arguments is None and calls[1].raw == "{not json"  # a model's bad JSON is kept, not guessed

    results = (ToolResult(calls[0].id, '{"hits": []}'), ToolResult(calls[1].id, "arguments are not JSON", True))
    second = Request(messages=(Message("user", "where is retry?"), Message("assistant", text, tool_calls=calls),
                               Message("user", "", tool_results=results)), tools=(SEARCH,))
    async with router.stream(second, provider=name) as answer:
        assert "".join([d async for d in answer]) == "Found it."
    assert answer.usage is not None and answer.usage.tool_calls == ()

    sent_first, sent_second = (r.json for r in fake_llm.requests_to(name))
    if name == "anthropic":
        assert sent_first["tools"] == [{"name": "search", "description": "Ranked code search",
                                        "input_schema": dict(SEARCH.input_schema)}]
        assistant, user = sent_second["messages"][1:]
        assert assistant["content"][0] == {"type": "text", "text": "Looking."}
        assert assistant["content"][1] == {"type": "tool_use", "id": calls[0].id, "name": "search",
                                           "input": {"query": "retry"}}
        assert user["content"][1] == {"type": "tool_result", "tool_use_id": calls[1].id,
                                      "content": "arguments are not JSON", "is_error": True}
    else:
        assert sent_first["tools"][0] == {"type": "function", "function": {
            "name": "search", "description": "Ranked code search", "parameters": dict(SEARCH.input_schema)}}
        assistant, tool_a, tool_b = sent_second["messages"][1:]
        assert assistant["tool_calls"][0]["function"] == {"name": "search", "arguments": '{"query": "retry"}'}
        assert tool_a == {"role": "tool", "tool_call_id": calls[0].id, "content": '{"hits": []}'}
        assert tool_b["tool_call_id"] == calls[1].id


def test_tool_call_arguments_that_are_not_an_object() -> None:
    assert ToolCall.parse("1", "t", "[1, 2]").arguments is None
    assert ToolCall.parse("1", "t", "").arguments == {}
