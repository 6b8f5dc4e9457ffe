"""Retries honouring retry-after, fallback, timeouts and the circuit breaker, against the fake server."""

from __future__ import annotations

import email.utils
import random
import socket

import pytest

from nexus.engine.providers import (
    AllProvidersFailedError,
    BreakerState,
    CircuitBreaker,
    CircuitOpenError,
    ProviderAuthError,
    ProviderRouter,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitError,
    Request,
    RetryPolicy,
    StreamInterruptedError,
    load_providers_config,
    parse_retry_after,
)
from tests.support.fake_llm import FakeLLM, Reply

from .conftest import KEY_ENV, FakeClock, RecordingSleep, RouterFactory, provider_settings


@pytest.mark.parametrize("name", ["anthropic", "openai"])
async def test_429_is_retried_after_the_servers_retry_after(name: str, fake_llm: FakeLLM,
                                                            make_router: RouterFactory) -> None:
    fake_llm.script(name, Reply.error(429, retry_after=7), Reply(text="second time lucky"))
    sleep = RecordingSleep()
    router = make_router(sleep=sleep, rng=random.Random(1))

    completion = await router.complete(Request(prompt="hi"), provider=name)

    assert completion.text == "second time lucky"
    assert completion.usage.attempts == 2
    assert len(fake_llm.requests_to(name)) == 2
    assert len(sleep.delays) == 1
    assert 7.0 <= sleep.delays[0] <= 7.7  # retry-after, plus at most 10% jitter


async def test_a_retry_after_longer_than_allowed_falls_back_instead_of_waiting(
        fake_llm: FakeLLM, make_router: RouterFactory) -> None:
    fake_llm.script("anthropic", Reply.error(429, retry_after=600))
    sleep = RecordingSleep()
    completion = await make_router(sleep=sleep).complete(Request(prompt="hi"))
    assert completion.usage.provider == "openai"
    assert sleep.delays == []


async def test_500_is_retried_with_backoff_then_falls_back_to_the_next_provider(
        fake_llm: FakeLLM, make_router: RouterFactory) -> None:
    fake_llm.set_default(Reply.error(500, message="upstream exploded"), route="anthropic")
    sleep = RecordingSleep()
    router = make_router(sleep=sleep, max_retries=2, backoff_base=0.5)

    completion = await router.complete(Request(prompt="hi"))

    assert completion.usage.provider == "openai"
    assert completion.usage.attempts == 4
    assert len(fake_llm.requests_to("anthropic")) == 3
    assert len(fake_llm.requests_to("openai")) == 1
    first, second = sleep.delays
    assert 0.25 <= first <= 0.5 and 0.5 <= second <= 1.0  # exponential, equal jitter


async def test_an_explicit_provider_does_not_fall_back(fake_llm: FakeLLM, make_router: RouterFactory) -> None:
    fake_llm.set_default(Reply.error(503), route="openai")
    with pytest.raises(ProviderUnavailableError, match=r"openai is unavailable \(HTTP 503\)"):
        await make_router(max_retries=0).complete(Request(prompt="hi"), provider="openai")
    assert fake_llm.requests_to("anthropic") == []


async def test_when_every_provider_fails_the_error_lists_each(fake_llm: FakeLLM,
                                                              make_router: RouterFactory) -> None:
    fake_llm.set_default(Reply.error(502))
    with pytest.raises(AllProvidersFailedError) as caught:
        await make_router(max_retries=0).complete(Request(prompt="hi"))
    assert [e.provider for e in caught.value.errors] == ["anthropic", "openai", "gemini", "local"]
    assert "anthropic is unavailable (HTTP 502)" in str(caught.value)


async def test_a_rejected_key_is_not_retried_and_says_which_variable_to_fix(
        fake_llm: FakeLLM, make_router: RouterFactory) -> None:
    fake_llm.set_default(Reply.error(401, message="invalid x-api-key"), route="anthropic")
    sleep = RecordingSleep()
    with pytest.raises(ProviderAuthError, match="check ANTHROPIC_API_KEY"):
        await make_router(sleep=sleep).complete(Request(prompt="hi"), provider="anthropic")
    assert len(fake_llm.requests_to("anthropic")) == 1 and sleep.delays == []


async def test_rate_limit_error_carries_retry_after_when_retries_run_out(
        fake_llm: FakeLLM, make_router: RouterFactory) -> None:
    fake_llm.set_default(Reply.error(429, retry_after=3), route="openai")
    with pytest.raises(RateLimitError) as caught:
        await make_router(max_retries=0).complete(Request(prompt="hi"), provider="openai")
    assert caught.value.retry_after == 3
    assert "retry after 3s" in str(caught.value)


async def test_no_first_byte_within_the_timeout_falls_back_and_closes_the_request(
        fake_llm: FakeLLM, make_router: RouterFactory) -> None:
    fake_llm.script("anthropic", Reply(first_byte_delay=30))
    router = make_router(timeout=0.3, max_retries=0)

    completion = await router.complete(Request(prompt="hi"))

    assert completion.usage.provider == "openai"
    stalled = fake_llm.requests_to("anthropic")[0]
    assert await fake_llm.wait_disconnected(stalled)


async def test_a_stream_that_stalls_after_some_text_raises_with_the_partial_text(
        fake_llm: FakeLLM, make_router: RouterFactory) -> None:
    fake_llm.script("openai", Reply(chunks=("partial ", "answer"), chunk_interval=30))
    with pytest.raises(StreamInterruptedError) as caught:
        await make_router(timeout=0.3).complete(Request(prompt="hi"), provider="openai")
    assert caught.value.partial_text == "partial "
    assert "no further text arrived within 0.3s" in str(caught.value)
    assert len(fake_llm.requests_to("openai")) == 1  # text was shown: never retried


async def test_timeout_error_says_what_to_change(fake_llm: FakeLLM, make_router: RouterFactory) -> None:
    fake_llm.script("gemini", Reply(first_byte_delay=30))
    with pytest.raises(ProviderTimeoutError, match="raise providers.timeout"):
        await make_router(timeout=0.2, max_retries=0).complete(Request(prompt="hi"), provider="gemini")


async def test_circuit_opens_after_repeated_failures_and_half_opens_after_the_reset_time(
        fake_llm: FakeLLM, make_router: RouterFactory) -> None:
    clock = FakeClock()
    router = make_router(max_retries=0, breaker_failures=2, breaker_reset=30, breaker_clock=clock)
    fake_llm.set_default(Reply.error(500), route="anthropic")
    request = Request(prompt="hi")

    for _ in range(2):
        with pytest.raises(ProviderUnavailableError):
            await router.complete(request, provider="anthropic")
    assert router.breaker("anthropic").state is BreakerState.OPEN
    with pytest.raises(CircuitOpenError, match="tried again in 30s"):
        await router.complete(request, provider="anthropic")
    assert len(fake_llm.requests_to("anthropic")) == 2  # the open circuit sent nothing

    # With fallback, an open provider is skipped without a request.
    assert (await router.complete(request)).usage.provider == "openai"
    assert len(fake_llm.requests_to("anthropic")) == 2

    clock.now += 30
    assert router.breaker("anthropic").state is BreakerState.HALF_OPEN
    with pytest.raises(ProviderUnavailableError):  # the probe fails: open for another 30 s
        await router.complete(request, provider="anthropic")
    assert router.breaker("anthropic").state is BreakerState.OPEN
    with pytest.raises(CircuitOpenError):
        await router.complete(request, provider="anthropic")
    assert len(fake_llm.requests_to("anthropic")) == 3

    clock.now += 30
    fake_llm.set_default(Reply(text="back"), route="anthropic")
    assert (await router.complete(request, provider="anthropic")).text == "back"  # the probe succeeds
    assert router.breaker("anthropic").state is BreakerState.CLOSED


def test_half_open_breaker_lets_exactly_one_probe_through() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("p", failure_threshold=1, reset_timeout=10, clock=clock)
    breaker.failure()
    with pytest.raises(CircuitOpenError):
        breaker.acquire()
    clock.now += 10
    breaker.acquire()  # the probe
    with pytest.raises(CircuitOpenError):
        breaker.acquire()  # while the probe is out
    breaker.release()  # the probe was cancelled: another caller may probe
    breaker.acquire()
    breaker.success()
    assert breaker.state is BreakerState.CLOSED and breaker.failures == 0


def test_parse_retry_after_reads_ms_seconds_and_dates() -> None:
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after": "2.5"}) == 2.5
    assert parse_retry_after({"retry-after": "-3"}) == 0.0
    date = email.utils.formatdate(1_000_060, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=lambda: 1_000_000) == 60
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_retry_policy_stops_after_max_retries_and_on_non_retryable_errors() -> None:
    policy = RetryPolicy(max_retries=2, base_delay=1, max_delay=3)
    rng = random.Random(0)
    unavailable = ProviderUnavailableError("down")
    assert 0.5 <= policy.delay(1, unavailable, rng) <= 1  # type: ignore[operator]
    assert 1 <= policy.delay(2, unavailable, rng) <= 2  # type: ignore[operator]
    assert policy.delay(3, unavailable, rng) is None
    assert policy.delay(1, ProviderAuthError("bad key"), rng) is None
    assert 1.5 <= RetryPolicy(max_retries=9, base_delay=1, max_delay=3).delay(5, unavailable, rng) <= 3  # type: ignore[operator]



async def test_an_unreachable_provider_is_reported_and_skipped(fake_llm: FakeLLM) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    settings = provider_settings(fake_llm, max_retries=0)
    settings.raw["anthropic"]["base_url"] = dead  # type: ignore[index]

    async with ProviderRouter(load_providers_config(settings, env=KEY_ENV)) as router:
        with pytest.raises(ProviderUnavailableError, match=f"cannot reach anthropic at {dead}"):
            await router.complete(Request(prompt="hi"), provider="anthropic")
        assert (await router.complete(Request(prompt="hi"))).usage.provider == "openai"
