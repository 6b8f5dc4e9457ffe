"""Streams that break mid-way, end early, or are cancelled by the caller."""

from __future__ import annotations

import asyncio

import pytest

from nexus.engine.providers import ProviderUnavailableError, Request, StreamInterruptedError
from tests.support.fake_llm import FakeLLM, Reply

from .conftest import PROVIDERS, RecordingSleep, RouterFactory

WORDS = tuple(f"w{i} " for i in range(8))


@pytest.mark.parametrize("name", PROVIDERS)
async def test_a_connection_cut_mid_stream_raises_with_the_partial_text(
        name: str, fake_llm: FakeLLM, make_router: RouterFactory) -> None:
    fake_llm.script(name, Reply(chunks=WORDS, cut_after=3))
    router = make_router()
    received: list[str] = []

    with pytest.raises(StreamInterruptedError) as caught:
        async with router.stream(Request(prompt="hi"), provider=name) as answer:
            async for delta in answer:
                received.append(delta)

    assert received == list(WORDS[:3])
    assert caught.value.partial_text == "w0 w1 w2 "
    assert caught.value.provider == name
    assert "broke off after 9 characters" in str(caught.value)
    assert len(fake_llm.requests) == 1  # text was already shown: no retry, no fallback


@pytest.mark.parametrize("name", ["anthropic", "openai"])
async def test_an_error_event_mid_stream_keeps_the_partial_text(
        name: str, fake_llm: FakeLLM, make_router: RouterFactory) -> None:
    fake_llm.script(name, Reply(chunks=WORDS, error_event_after=2))
    with pytest.raises(StreamInterruptedError) as caught:
        await make_router().complete(Request(prompt="hi"), provider=name)
    assert caught.value.partial_text == "w0 w1 "


@pytest.mark.parametrize("name", ["anthropic", "openai"])
async def test_a_stream_ending_without_its_final_events_is_not_taken_as_complete(
        name: str, fake_llm: FakeLLM, make_router: RouterFactory) -> None:
    fake_llm.script(name, Reply(chunks=WORDS, truncate_after=4))
    with pytest.raises(StreamInterruptedError) as caught:
        await make_router().complete(Request(prompt="hi"), provider=name)
    assert caught.value.partial_text == "w0 w1 w2 w3 "


async def test_an_overloaded_event_before_any_text_is_retried(fake_llm: FakeLLM,
                                                             make_router: RouterFactory) -> None:
    fake_llm.script("anthropic", Reply(chunks=(), error_event_after=0))
    sleep = RecordingSleep()
    completion = await make_router(sleep=sleep).complete(Request(prompt="hi"), provider="anthropic")
    assert completion.text == "Hello from the fake model."
    assert completion.usage.attempts == 2 and len(sleep.delays) == 1


async def test_a_cut_before_any_text_is_retried_then_reported_as_unavailable(
        fake_llm: FakeLLM, make_router: RouterFactory) -> None:
    fake_llm.set_default(Reply(chunks=WORDS, cut_after=0), route="openai")
    with pytest.raises(ProviderUnavailableError):
        await make_router(sleep=RecordingSleep(), max_retries=1).complete(Request(prompt="hi"), provider="openai")
    assert len(fake_llm.requests_to("openai")) == 2


@pytest.mark.parametrize("name", ["anthropic", "local"])
async def test_cancelling_the_caller_closes_the_upstream_request(
        name: str, fake_llm: FakeLLM, make_router: RouterFactory) -> None:
    fake_llm.script(name, Reply(chunks=tuple(f"t{i} " for i in range(200)), chunk_interval=0.05))
    router = make_router()
    two_deltas = asyncio.Event()
    received: list[str] = []

    async def consume() -> None:
        async for delta in router.stream(Request(prompt="long answer please"), provider=name):
            received.append(delta)
            if len(received) == 2:
                two_deltas.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(two_deltas.wait(), 10)
    task.cancel()  # what an LSP $/cancelRequest does to the handler's task
    with pytest.raises(asyncio.CancelledError):
        await task

    slow = fake_llm.requests_to(name)[0]
    assert await fake_llm.wait_disconnected(slow)
    assert not slow.completed
    assert slow.chunks_sent < 200


async def test_closing_the_stream_closes_the_upstream_request(fake_llm: FakeLLM,
                                                             make_router: RouterFactory) -> None:
    fake_llm.script("openai", Reply(chunks=tuple(f"t{i} " for i in range(200)), chunk_interval=0.05))
    router = make_router()
    answer = router.stream(Request(prompt="hi"), provider="openai")
    assert await anext(answer) == "t0 "
    await answer.aclose()
    assert await fake_llm.wait_disconnected(fake_llm.requests_to("openai")[0])
    assert answer.usage is None
    assert [d async for d in answer] == []  # a closed stream yields nothing more
    assert router.breaker("openai").failures == 0  # cancelling is not the provider's fault
