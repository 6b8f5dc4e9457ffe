"""What ``ai:chat`` and ``processor:chain`` share: provider errors as protocol errors, and usage fed to
the ``nexus_ai_tokens_total`` metric.

A provider's failure keeps its meaning for the client: a bad request body is ``bad_request``, no
provider configured is ``unavailable`` (its message says how to configure one), a provider's rate
limit is ``rate_limited`` with the provider's ``retryAfter``; anything else is ``failed`` with the
provider layer's (redacted) message and its JSON detail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..metrics import GatewayMetrics
from ..protocol import ErrorCode, GatewayError

if TYPE_CHECKING:
    from nexus.engine.providers import ProviderError, Usage


def provider_error(exc: ProviderError) -> GatewayError:
    from nexus.engine.providers import (
        CircuitOpenError,
        InvalidRequestError,
        NoProviderError,
        RateLimitError,
    )

    detail = exc.to_json()
    if isinstance(exc, InvalidRequestError):
        return GatewayError(ErrorCode.BAD_REQUEST, str(exc))
    if isinstance(exc, NoProviderError):
        return GatewayError(ErrorCode.UNAVAILABLE, str(exc))
    if isinstance(exc, RateLimitError):
        limited = GatewayError(ErrorCode.RATE_LIMITED, str(exc), provider=exc.provider)
        if exc.retry_after is not None:
            limited.extra["retryAfter"] = exc.retry_after
        return limited
    if isinstance(exc, CircuitOpenError):
        return GatewayError(ErrorCode.UNAVAILABLE, str(exc), provider=exc.provider, retryAfter=round(exc.retry_in, 3))
    return GatewayError(ErrorCode.FAILED, str(exc), provider=exc.provider, detail=detail)


def count_tokens(metrics: GatewayMetrics, usage: Usage | None) -> None:
    if usage is None:
        return
    if usage.input_tokens:
        metrics.tokens_used.inc(usage.provider, "input", amount=usage.input_tokens)
    if usage.output_tokens:
        metrics.tokens_used.inc(usage.provider, "output", amount=usage.output_tokens)
