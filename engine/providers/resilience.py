"""Retries with backoff and jitter, ``retry-after`` parsing, and a circuit breaker per provider.

The SDKs' own retries are switched off (``max_retries=0``) so that every attempt passes through
here: one place decides how long to wait, counts failures for the breaker, and gives up on a
provider so the router can fall back to the next one. Clocks and randomness are injectable so the
behaviour is tested without waiting.
"""

from __future__ import annotations

import dataclasses
import email.utils
import enum
import logging
import random
import time
from collections.abc import Callable, Mapping

from .errors import CircuitOpenError, ProviderError, RateLimitError

log = logging.getLogger(__name__)


def parse_retry_after(headers: Mapping[str, str] | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds the server asked us to wait: ``retry-after-ms``, then ``retry-after`` as seconds or as
    an HTTP date. None when absent or unreadable; never negative."""
    if not headers:
        return None
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now())


@dataclasses.dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``max_retries`` extra attempts per provider; exponential backoff with equal jitter, or the
    server's ``retry-after`` (plus up to 10% jitter) when it gave one. A ``retry-after`` longer than
    ``max_retry_after`` is not waited for: the router falls back to the next provider instead."""

    max_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 30.0

    def delay(self, attempts: int, error: ProviderError, rng: random.Random) -> float | None:
        """Seconds to wait after ``attempts`` failed attempts, or None to stop retrying."""
        if not error.retryable or attempts > self.max_retries:
            return None
        if isinstance(error, RateLimitError) and error.retry_after is not None:
            if error.retry_after > self.max_retry_after:
                return None
            return error.retry_after + rng.uniform(0.0, min(1.0, 0.1 * error.retry_after))
        cap = min(self.max_delay, self.base_delay * 2 ** (attempts - 1))
        return rng.uniform(cap / 2, cap)


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Stops calling a provider after ``failure_threshold`` availability failures in a row.

    Open: calls fail at once with CircuitOpenError (the router moves to the next provider). After
    ``reset_timeout`` seconds it is half-open: exactly one call goes through as a probe; its success
    closes the breaker, its failure opens it for another ``reset_timeout``. Only availability
    failures count (5xx, 429, timeouts, broken streams); a 400 or 401 proves the service is up.
    """

    def __init__(self, name: str, failure_threshold: int = 5, reset_timeout: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.reset_timeout:
            return BreakerState.HALF_OPEN
        return self._state

    @property
    def failures(self) -> int:
        return self._failures

    def acquire(self) -> None:
        """Ask to make a call; raises CircuitOpenError when the breaker refuses it."""
        state = self.state
        if state is BreakerState.CLOSED:
            return
        if state is BreakerState.HALF_OPEN and not self._probing:
            self._state = BreakerState.HALF_OPEN
            self._probing = True
            log.info("%s: circuit half-open, sending one probe request", self.name)
            return
        retry_in = max(0.0, self.reset_timeout - (self._clock() - self._opened_at))
        raise CircuitOpenError(self.name, retry_in, self._failures)

    def success(self) -> None:
        if self._state is not BreakerState.CLOSED:
            log.info("%s: circuit closed again", self.name)
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._probing = False

    def failure(self) -> None:
        self._failures += 1
        if self._state is BreakerState.HALF_OPEN or self._failures >= self.failure_threshold:
            if self._state is not BreakerState.OPEN:
                log.warning("%s: circuit open after %d failures; skipping it for %gs",
                            self.name, self._failures, self.reset_timeout)
            self._state = BreakerState.OPEN
            self._opened_at = self._clock()
            self._probing = False

    def release(self) -> None:
        """The call ended without a verdict (cancelled): let another caller probe."""
        self._probing = False
