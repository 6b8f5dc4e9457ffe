"""Shared set-up: a fake model server and routers pointed at it through the real SDKs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from nexus.engine.config import Settings
from nexus.engine.providers import ProviderRouter, load_providers_config
from tests.support.fake_llm import FakeLLM, fake_llm  # noqa: F401  (re-exported fixture)

# Not shaped like any real key on purpose: redaction by pattern must not be what hides it.
API_KEY = "nexus-test-credential-7f3a9c"
PROVIDERS = ("anthropic", "openai", "gemini", "local")


def provider_settings(fake: FakeLLM, **section: Any) -> Settings:
    """Settings as nexus.toml + NEXUS_* env would give them, every provider at the fake server."""
    return Settings({
        "providers": {"order": list(PROVIDERS), "max_retries": 2, **section},
        "anthropic": {"base_url": fake.base_url("anthropic")},
        "openai": {"base_url": fake.base_url("openai")},
        "gemini": {"base_url": fake.base_url("gemini")},
        "local": {"base_url": fake.base_url("local"), "model": "fake-local-model"},
    })


KEY_ENV = {"ANTHROPIC_API_KEY": API_KEY, "OPENAI_API_KEY": API_KEY, "GEMINI_API_KEY": API_KEY}


class RecordingSleep:
    """Stands in for asyncio.sleep between retries: records the delay, yields to the loop once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


RouterFactory = Callable[..., ProviderRouter]


@pytest.fixture
async def make_router(fake_llm: FakeLLM) -> AsyncIterator[RouterFactory]:  # noqa: F811
    """Build routers against the fake server; all are closed after the test."""
    made: list[ProviderRouter] = []

    def make(*, env: dict[str, str] | None = None, **kwargs: Any) -> ProviderRouter:
        section = {k: v for k, v in kwargs.items() if k not in ("sleep", "rng", "breaker_clock", "clock")}
        extras = {k: v for k, v in kwargs.items() if k in ("sleep", "rng", "breaker_clock", "clock")}
        config = load_providers_config(provider_settings(fake_llm, **section), env=KEY_ENV if env is None else env)
        router = ProviderRouter(config, **extras)
        made.append(router)
        return router

    yield make
    for router in made:
        await router.aclose()
