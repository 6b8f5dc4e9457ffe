"""The one entry point for model calls: resolve a role to providers, stream with timeouts, retries,
a circuit breaker per provider and fallback, and time the result.

    router = ProviderRouter.from_settings(root=workspace)
    async with router.stream(Request(prompt="Explain this"), role=Role.CHAT) as answer:
        async for delta in answer:
            send(delta)
    answer.usage  # provider, model, tokens, latency, time to first token

Retries and fallback happen only before the first delta reaches the caller: once text has been
shown it cannot be taken back, so a failure after that raises StreamInterruptedError with the
partial text instead of silently starting over on another model.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from nexus.engine.config import Settings

from ..streams import DeltaStream
from . import errors
from .base import Provider, create_provider
from .errors import safe_url
from .resilience import CircuitBreaker, RetryPolicy
from .settings import ProvidersConfig, Target, load_providers_config
from .types import Completion, Request, Role, Tokens, Usage

log = logging.getLogger(__name__)

# Failures that say "this provider is not answering well right now": they feed the breaker.
_AVAILABILITY = (errors.RateLimitError, errors.ProviderTimeoutError, errors.ProviderUnavailableError,
                 errors.StreamInterruptedError)


class ChatStream(DeltaStream[Usage]):
    """An answer being streamed: iterate it for text deltas; when iteration ends, :attr:`usage` holds
    the final record and :attr:`text` the whole answer. Closing it (``aclose()``, leaving ``async
    with``, or cancelling the task iterating it) stops the upstream request."""

    def __init__(self, source: AsyncGenerator[str | Usage, None]) -> None:
        super().__init__(source, Usage)

    @property
    def usage(self) -> Usage | None:
        return self.final

    async def collect(self) -> Completion:
        """Read the rest of the answer and return it whole."""
        usage = await self.drain()
        if usage is None:
            raise errors.ProviderError("the stream was closed before it finished")
        return Completion(self.text, usage)


class ProviderRouter:
    """Routes requests to providers. One per process (or per test); close it with :meth:`aclose`.

    ``providers`` injects ready-made :class:`Provider` objects by name (any object meeting the
    protocol); the others are built from ``config`` on first use. ``clock``, ``sleep``, ``rng`` and
    ``breaker_clock`` exist so retry and breaker behaviour can be tested without waiting.
    """

    def __init__(self, config: ProvidersConfig, *, providers: Mapping[str, Provider] | None = None,
                 clock: Callable[[], float] = time.perf_counter,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 rng: random.Random | None = None,
                 breaker_clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._providers: dict[str, Provider] = dict(providers or {})
        self._breakers: dict[str, CircuitBreaker] = {}
        self._policy = RetryPolicy(config.max_retries, config.backoff_base, config.backoff_max,
                                   config.max_retry_after)
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._breaker_clock = breaker_clock

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, root: Path | None = None,
                      env: Mapping[str, str] | None = None, **kwargs: Any) -> ProviderRouter:
        return cls(load_providers_config(settings, root=root, env=env), **kwargs)

    @property
    def available(self) -> bool:
        """True when at least one provider is configured (AI features can work)."""
        return bool(self.config.configured)

    def breaker(self, name: str) -> CircuitBreaker:
        breaker = self._breakers.get(name)
        if breaker is None:
            breaker = CircuitBreaker(name, self.config.breaker_failures, self.config.breaker_reset,
                                     self._breaker_clock)
            self._breakers[name] = breaker
        return breaker

    def provider(self, name: str) -> Provider:
        """The provider called ``name``, built on first use."""
        provider = self._providers.get(name)
        if provider is None:
            provider = create_provider(self.config.get(name), timeout=self.config.timeout,
                                       connect_timeout=self.config.connect_timeout)
            self._providers[name] = provider
        return provider

    async def warm(self) -> None:
        """Build every configured provider off the event loop. Importing an SDK takes up to a second
        (``anthropic`` ~1 s here); a server calls this at start-up so the first answer does not pay it."""
        missing = [p for p in self.config.configured if p.name not in self._providers]
        built = await asyncio.to_thread(
            lambda: [(p.name, create_provider(p, timeout=self.config.timeout,
                                              connect_timeout=self.config.connect_timeout)) for p in missing])
        for name, provider in built:
            if self._providers.setdefault(name, provider) is not provider:
                await provider.aclose()  # a call built it meanwhile

    def status(self) -> list[dict[str, Any]]:
        """JSON-able health of every known provider, for health checks and the gateway."""
        return [
            {
                "name": p.name, "kind": p.kind, "configured": p.configured,
                "baseUrl": safe_url(p.base_url) if p.base_url else None,
                "models": {role.value: model for role, model in p.models.items()},
                "breaker": self.breaker(p.name).state.value,
            }
            for p in self.config.providers
        ]

    def stream(self, request: Request, *, role: Role | str = Role.CHAT, provider: str | None = None,
               model: str | None = None, fallback: bool | None = None) -> ChatStream:
        """Start a streamed call. Raises NoProviderError (at once, not on iteration) when nothing is
        configured, InvalidRequestError for an unknown provider name."""
        targets = self.config.targets(Role.parse(role), provider, model or request.model, fallback)
        return ChatStream(self._run(request, targets))

    async def complete(self, request: Request, *, role: Role | str = Role.CHAT, provider: str | None = None,
                       model: str | None = None, fallback: bool | None = None) -> Completion:
        """Non-streaming call, built on :meth:`stream`."""
        async with self.stream(request, role=role, provider=provider, model=model, fallback=fallback) as answer:
            return await answer.collect()

    async def aclose(self) -> None:
        providers, self._providers = list(self._providers.values()), {}
        for provider in providers:
            await provider.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def _run(self, request: Request, targets: Sequence[Target]) -> AsyncGenerator[str | Usage, None]:
        started = self._clock()
        failures: list[errors.ProviderError] = []
        attempts_total = 0
        for target in targets:
            breaker = self.breaker(target.provider)
            attempts = 0
            while True:
                try:
                    breaker.acquire()
                except errors.CircuitOpenError as exc:
                    failures.append(exc)
                    break
                attempts += 1
                attempts_total += 1
                parts: list[str] = []
                first_at: float | None = None
                tokens: Tokens | None = None
                try:
                    provider = self.provider(target.provider)
                    async with contextlib.aclosing(provider.stream(request, target.model)) as items:
                        iterator = aiter(items)
                        while True:
                            try:
                                async with asyncio.timeout(self.config.timeout):
                                    item = await anext(iterator)
                            except StopAsyncIteration:
                                break
                            except TimeoutError as exc:
                                what = "no further text arrived" if parts else "no answer started"
                                raise errors.timed_out(target.provider, self.config.timeout, what) from exc
                            if isinstance(item, Tokens):
                                tokens = item
                                continue
                            if first_at is None:
                                first_at = self._clock()
                            parts.append(item)
                            yield item
                except errors.ProviderError as exc:
                    if isinstance(exc, _AVAILABILITY):
                        breaker.failure()
                    else:
                        breaker.success()  # the provider answered; the request was the problem
                    if parts:
                        if isinstance(exc, errors.StreamInterruptedError):
                            exc.partial_text = "".join(parts)
                            raise
                        raise errors.interrupted(target.provider, "".join(parts), str(exc)) from exc
                    delay = self._policy.delay(attempts, exc, self._rng)
                    if delay is None:
                        log.warning("%s failed: %s", target.provider, exc)
                        failures.append(exc)
                        break
                    log.info("%s failed (%s); attempt %d in %.2fs", target.provider, type(exc).__name__,
                             attempts + 1, delay)
                    await self._sleep(delay)
                    continue
                except BaseException:
                    breaker.release()
                    raise
                breaker.success()
                now = self._clock()
                yield Usage(
                    provider=target.provider,
                    model=tokens.model if tokens else target.model,
                    input_tokens=tokens.input_tokens if tokens else None,
                    output_tokens=tokens.output_tokens if tokens else None,
                    latency_ms=(now - started) * 1000.0,
                    ttft_ms=None if first_at is None else (first_at - started) * 1000.0,
                    stop_reason=tokens.stop_reason if tokens else None,
                    attempts=attempts_total,
                    tool_calls=tokens.tool_calls if tokens else (),
                )
                return
        if len(failures) == 1:
            raise failures[0]
        raise errors.AllProvidersFailedError(failures)
