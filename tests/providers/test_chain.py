"""Chains in the seed's /api/processor/chain shape: sequential, parallel and race."""

from __future__ import annotations

import json

import pytest

from nexus.engine.providers import ChainRequest, InvalidRequestError, run_chain, run_processor
from tests.support.fake_llm import FakeLLM, Reply

from .conftest import RouterFactory


async def test_sequential_feeds_each_answer_into_the_next_template(fake_llm: FakeLLM,
                                                                   make_router: RouterFactory) -> None:
    fake_llm.script("anthropic", Reply(text="The code sums a list."))
    fake_llm.script("openai", Reply(text="It sums a list; empty lists give 0."))
    fake_llm.script("local", Reply(text="Final."))
    body = {"processors": ["claude", "gpt", {"processor": "local", "model": "tiny",
                                            "template": "Step {{step}}. Shorten: {{previous}}"}],
            "prompt": "Analyze this code", "chainMode": "sequential"}

    result = await run_chain(make_router(), body)

    out = result.to_json()
    assert json.loads(json.dumps(out)) == out  # JSON-able as it stands
    assert out["chainMode"] == "sequential"
    assert [r["processor"] for r in out["results"]] == ["claude", "gpt", "local"]
    assert [r["response"] for r in out["results"]] == [
        "The code sums a list.", "It sums a list; empty lists give 0.", "Final."]
    assert out["response"] == "Final."
    assert out["results"][2]["model"] == "tiny"
    assert all(r["status"] == "ok" and r["usage"]["ttftMs"] is not None for r in out["results"])
    assert fake_llm.requests_to("anthropic")[0].prompt_text == "Analyze this code"
    second = fake_llm.requests_to("openai")[0].prompt_text
    assert second.startswith("Analyze this code") and "The code sums a list." in second
    assert fake_llm.requests_to("local")[0].prompt_text == "Step 3. Shorten: It sums a list; empty lists give 0."


async def test_sequential_stops_at_a_failed_step_and_skips_the_rest(fake_llm: FakeLLM,
                                                                    make_router: RouterFactory) -> None:
    fake_llm.set_default(Reply.error(400, message="prompt too long"), route="openai")
    result = await run_chain(make_router(), {"processors": ["claude", "gpt", "gemini"], "prompt": "x"})
    statuses = [(r.processor, r.status) for r in result.results]
    assert statuses == [("claude", "ok"), ("gpt", "error"), ("gemini", "skipped")]
    error = result.to_json()["results"][1]["error"]
    assert error["type"] == "ProviderRejectedError" and "prompt too long" in error["message"]
    assert result.response is None
    assert fake_llm.requests_to("gemini") == []


async def test_parallel_returns_results_in_the_order_given_each_with_usage_or_error(
        fake_llm: FakeLLM, make_router: RouterFactory) -> None:
    fake_llm.script("anthropic", Reply(text="slow but sure", first_byte_delay=0.3))
    fake_llm.script("openai", Reply.error(500))
    fake_llm.script("gemini", Reply(text="fast"))
    router = make_router(max_retries=0)

    result = await run_chain(router, {"processors": ["claude", "gpt", "gemini"], "prompt": "x",
                                      "chainMode": "parallel"})

    out = result.to_json()
    assert [(r["processor"], r["status"]) for r in out["results"]] == [
        ("claude", "ok"), ("gpt", "error"), ("gemini", "ok")]
    assert out["results"][0]["response"] == "slow but sure"
    assert out["results"][0]["tokensUsed"] == out["results"][0]["usage"]["totalTokens"]
    assert out["results"][1]["usage"] is None and "HTTP 500" in out["results"][1]["error"]["message"]
    assert out["results"][2]["response"] == "fast"
    assert out["response"] is None


async def test_race_takes_the_first_complete_answer_and_cancels_the_others(
        fake_llm: FakeLLM, make_router: RouterFactory) -> None:
    fake_llm.script("anthropic", Reply(chunks=tuple(f"s{i} " for i in range(500)), chunk_interval=0.05))
    fake_llm.script("openai", Reply.error(503))  # fails first: a failure does not win
    fake_llm.script("local", Reply(text="quick answer", first_byte_delay=0.2))
    router = make_router(max_retries=0)

    result = await run_chain(router, {"processors": ["claude", "gpt", "local"], "prompt": "x",
                                      "chainMode": "race"})

    out = result.to_json()
    assert out["winner"] == "local" and out["response"] == "quick answer"
    assert [(r["processor"], r["status"]) for r in out["results"]] == [
        ("claude", "cancelled"), ("gpt", "error"), ("local", "ok")]
    loser = fake_llm.requests_to("anthropic")[0]
    assert await fake_llm.wait_disconnected(loser)
    assert not loser.completed
    assert router.breaker("anthropic").failures == 0  # losing a race is not a failure


async def test_a_race_everyone_loses_has_no_winner(fake_llm: FakeLLM, make_router: RouterFactory) -> None:
    fake_llm.set_default(Reply.error(500))
    result = await run_chain(make_router(max_retries=0),
                             {"processors": ["claude", "gpt"], "prompt": "x", "chainMode": "race"})
    assert result.winner is None and [r.status for r in result.results] == ["error", "error"]


async def test_an_unconfigured_processor_is_a_step_error_saying_how_to_configure_it(
        fake_llm: FakeLLM, make_router: RouterFactory) -> None:
    router = make_router(env={"ANTHROPIC_API_KEY": "k"})
    result = await run_chain(router, {"processors": ["claude", "gpt"], "prompt": "x", "chainMode": "parallel"})
    assert result.results[0].status == "ok"
    assert result.results[1].error is not None
    assert result.results[1].error["type"] == "NoProviderError"
    assert "OPENAI_API_KEY" in str(result.results[1].error["message"])


@pytest.mark.parametrize(("body", "message"), [
    ({"processors": [], "prompt": "x"}, "at least one processor"),
    ({"processors": "claude", "prompt": "x"}, "must be a list"),
    ({"processors": ["claude"], "prompt": ""}, "non-empty string"),
    ({"processors": ["claude"], "prompt": "x", "chainMode": "pipeline"}, "chainMode must be one of"),
    ({"processors": [{"processor": "claude", "template": "{{prev}}"}], "prompt": "x"}, r"\{\{prev\}\}"),
    ({"processors": [42], "prompt": "x"}, "each processor"),
    ({"processors": ["claude"], "prompt": "x", "maxTokens": 0}, "max_tokens must be a positive"),
    ({"processors": ["claude"], "prompt": "x", "temperature": "hot"}, "temperature must be a number"),
])
def test_malformed_chain_bodies_say_what_is_wrong(body: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        ChainRequest.from_json(body)


async def test_an_unknown_processor_is_refused_before_anything_is_sent(
        fake_llm: FakeLLM, make_router: RouterFactory) -> None:
    with pytest.raises(InvalidRequestError, match="unknown provider 'bard'"):
        await run_chain(make_router(), {"processors": ["claude", "bard"], "prompt": "x"})
    assert fake_llm.requests == []


async def test_run_processor_answers_in_the_seed_shape(fake_llm: FakeLLM, make_router: RouterFactory) -> None:
    fake_llm.script("anthropic", Reply(text="Quantum computing is..."))
    out = await run_processor(make_router(), "claude",
                              {"prompt": "Explain quantum computing", "maxTokens": 1000, "temperature": 0.7})
    assert out["response"] == "Quantum computing is..."
    assert out["model"] == "claude-sonnet-5-5"
    assert out["tokensUsed"] == 3 + 3
    assert fake_llm.requests[0].json["max_tokens"] == 1000
