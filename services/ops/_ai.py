"""What the AI operations share: provider errors as operation errors, and usage reported to the face's
metrics (``nexus_ai_tokens_total`` on the gateway).

A provider's failure keeps its meaning for the client: a bad request body is ``bad_request``, no provider
configured is ``unavailable`` (its message says how to configure one), a provider's rate limit is
``rate_limited`` with the provider's ``retryAfter``; anything else is ``failed`` with the provider
layer's (redacted) message and its JSON detail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ErrorCode, OperationError

if TYPE_CHECKING:
    from nexus.engine.providers import ProviderError, Usage

    from ..call import Call


def provider_error(exc: ProviderError) -> OperationError:
    from nexus.engine.providers import CircuitOpenError, InvalidRequestError, NoProviderError, RateLimitError

    if isinstance(exc, InvalidRequestError):
        return OperationError(ErrorCode.BAD_REQUEST, str(exc))
    if isinstance(exc, NoProviderError):
        return OperationError(ErrorCode.UNAVAILABLE, str(exc))
    if isinstance(exc, RateLimitError):
        limited = OperationError(ErrorCode.RATE_LIMITED, str(exc), provider=exc.provider)
        if exc.retry_after is not None:
            limited.extra["retryAfter"] = exc.retry_after
        return limited
    if isinstance(exc, CircuitOpenError):
        return OperationError(ErrorCode.UNAVAILABLE, str(exc), provider=exc.provider,
                              retryAfter=round(exc.retry_in, 3))
    return OperationError(ErrorCode.FAILED, str(exc), provider=exc.provider, detail=exc.to_json())


def report_usage(call: Call, usage: Usage | None) -> None:
    if usage is not None and call.backends.on_usage is not None:
        call.backends.on_usage(usage)


def usage_json(usage: Usage | None) -> dict[str, Any] | None:
    return usage.to_json() if usage is not None else None


async def kernel_note(call: Call, kernel_id: str) -> str:
    """A live kernel's variables, described for the model (the Jupyter extension reads its notebooks')."""
    reader = call.backends.variables
    if reader is None:
        raise OperationError(ErrorCode.BAD_REQUEST, "kernelId: this server has no notebook kernels")
    from nexus.kernels.variables import describe

    found = await reader(kernel_id, 10.0)
    return (f"The user's live Jupyter kernel ({found['language']}) holds these variables:\n"
            + (describe(found) or "(none)"))
