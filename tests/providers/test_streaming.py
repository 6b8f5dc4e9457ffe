"""Each provider streams through its real SDK against the fake server speaking its wire protocol."""

from __future__ import annotations

import pytest

from nexus.engine.providers import Completion, Message, Request, Role
from tests.support.fake_llm import FakeLLM, Reply

from .conftest import PROVIDERS, RouterFactory

MODEL_FIELD = {"anthropic": "max_tokens", "openai": "max_completion_tokens", "gemini": "max_tokens",
               "local": "max_tokens"}


@pytest.mark.parametrize("name", PROVIDERS)
async def test_each_provider_streams_deltas_then_usage(name: str, fake_llm: FakeLLM,
                                                      make_router: RouterFactory) -> None:
    fake_llm.script(name, Reply(chunks=("def ", "add(a, b):\n", "    return a + b\n")))
    router = make_router()
    request = Request(prompt="write add", system="You write Python.", max_tokens=77, stop=("\n\n\n",))

    async with router.stream(request, provider=name) as answer:
        deltas = [delta async for delta in answer]

    assert deltas == ["def ", "add(a, b):\n", "    return a + b\n"]
    assert answer.text == "def add(a, b):\n    return a + b\n"
    usage = answer.usage
    assert usage is not None
    assert usage.provider == name
    assert usage.model == router.config.get(name).models[Role.CHAT]
    assert (usage.input_tokens, usage.output_tokens) == (5, 3)  # the fake counts words in / chunks out
    assert usage.ttft_ms is not None and 0 < usage.ttft_ms <= usage.latency_ms
    assert usage.stop_reason in ("end_turn", "stop")
    assert usage.attempts == 1

    sent = fake_llm.requests_to(name)[0]
    assert sent.json["stream"] is True
    assert sent.json[MODEL_FIELD[name]] == 77
    if name == "anthropic":
        assert sent.json["system"] == "You write Python."
        assert sent.json["stop_sequences"] == ["\n\n\n"]
        assert sent.json["messages"] == [{"role": "user", "content": "write add"}]
    else:
        assert sent.json["messages"][0] == {"role": "system", "content": "You write Python."}
        assert sent.json["stop"] == ["\n\n\n"]
        assert sent.json["stream_options"] == {"include_usage": True}
    assert sent.completed


async def test_conversation_and_model_override_reach_the_wire(fake_llm: FakeLLM,
                                                              make_router: RouterFactory) -> None:
    router = make_router()
    request = Request(messages=(Message("user", "hi"), Message("assistant", "hello")), prompt="and now?",
                      model="claude-override-1")
    completion = await router.complete(request, provider="claude")  # an alias of anthropic
    assert completion.usage.model == "claude-override-1"
    assert fake_llm.requests[0].json["messages"] == [
        {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "and now?"}]


async def test_temperature_goes_to_openai_but_not_to_anthropic(fake_llm: FakeLLM,
                                                               make_router: RouterFactory) -> None:
    router = make_router()
    await router.complete(Request(prompt="x", temperature=0.2), provider="openai")
    await router.complete(Request(prompt="x", temperature=0.2), provider="anthropic")
    assert fake_llm.requests_to("openai")[0].json["temperature"] == 0.2
    assert "temperature" not in fake_llm.requests_to("anthropic")[0].json  # API 2026-10-21 rejects it


async def test_complete_is_built_on_the_stream_and_serialises_in_the_seed_shape(
        fake_llm: FakeLLM, make_router: RouterFactory) -> None:
    completion = await make_router().complete(Request(prompt="Explain quantum computing"), role="chat")
    assert isinstance(completion, Completion)
    body = completion.to_json()
    assert body["response"] == "Hello from the fake model."
    assert body["tokensUsed"] == 3 + 5
    assert body["model"] == "claude-sonnet-5-5"
    assert body["usage"]["provider"] == "anthropic" and body["usage"]["ttftMs"] is not None


async def test_roles_pick_their_own_provider_and_model(fake_llm: FakeLLM, make_router: RouterFactory) -> None:
    router = make_router(inline="local:qwen2.5-coder:1.5b", edit="gpt")
    inline = await router.complete(Request(prompt="x"), role=Role.INLINE)
    edit = await router.complete(Request(prompt="x"), role=Role.EDIT)
    chat = await router.complete(Request(prompt="x"), role=Role.CHAT)
    assert (inline.usage.provider, inline.usage.model) == ("local", "qwen2.5-coder:1.5b")
    assert (edit.usage.provider, edit.usage.model) == ("openai", "gpt-5.5")
    assert (chat.usage.provider, chat.usage.model) == ("anthropic", "claude-sonnet-5-5")


async def test_warm_builds_configured_providers_off_the_loop(fake_llm: FakeLLM,
                                                             make_router: RouterFactory) -> None:
    router = make_router()
    await router.warm()
    assert {s["name"] for s in router.status() if s["configured"]} == set(PROVIDERS)
    assert (await router.complete(Request(prompt="x"), provider="gemini")).text
