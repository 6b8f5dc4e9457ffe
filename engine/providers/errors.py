"""Errors of the provider layer. SDK and HTTP errors are translated where they enter (each provider
module), so nothing above this package ever sees an ``anthropic`` or ``openai`` exception.

    NexusError
     ├── UnavailableError
     │    └── NoProviderError ........ no provider configured (also a ProviderError)
     └── ProviderError ............... .provider names who failed; .retryable says if trying again may help
          ├── InvalidRequestError .... the request or chain body is malformed; never sent, never retried
          ├── ProviderAuthError ...... HTTP 401/403: the API key is missing, wrong or not allowed
          ├── ProviderRejectedError .. other HTTP 4xx: unknown model, request too large, ...
          ├── RateLimitError ......... HTTP 429; .retry_after seconds when the provider said so
          ├── ProviderTimeoutError ... nothing arrived within the timeout
          ├── ProviderUnavailableError HTTP 5xx, connection refused or reset before any text
          ├── CircuitOpenError ....... the provider failed repeatedly; calls skip it until .retry_in passes
          ├── StreamInterruptedError . the answer broke off mid-way; .partial_text holds what arrived
          └── AllProvidersFailedError  every provider in the fallback list failed; .errors has each one

Every message is meant for the user and is passed through :func:`redact`, so an API key never
reaches a log line, an error or a client.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Sequence

from nexus.engine.errors import NexusError, UnavailableError

# Shapes of well-known credentials, redacted even when we were not told the exact value.
_KEY_PATTERNS = re.compile(
    r"(sk-ant-[A-Za-z0-9_\-]{6,}|sk-[A-Za-z0-9_\-]{16,}|AIza[0-9A-Za-z_\-]{20,}|(?<=Bearer )[^\s\"']{8,})"
)
_MAX_UPSTREAM_MESSAGE = 300


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Return ``text`` with every given secret and every key-shaped token replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _KEY_PATTERNS.sub("***", text)


def safe_url(url: str) -> str:
    """``url`` without user info or query (where proxies and gateways sometimes carry a token)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


class ProviderError(NexusError):
    """Base of provider failures; ``provider`` is the configured name (``anthropic``, ``local``...)."""

    retryable = False

    def __init__(self, message: str, *, provider: str | None = None) -> None:
        super().__init__(redact(message))
        self.provider = provider

    def to_json(self) -> dict[str, object]:
        return {"type": type(self).__name__, "message": str(self), "provider": self.provider}


class NoProviderError(ProviderError, UnavailableError):
    def __init__(self, detail: str | None = None) -> None:
        lines = [
            "no AI provider is configured" + (f" ({detail})" if detail else "") + ". Configure one of:",
            "  - Anthropic: export ANTHROPIC_API_KEY=...",
            "  - OpenAI:    export OPENAI_API_KEY=...",
            "  - Gemini:    export GEMINI_API_KEY=...",
            "  - a local OpenAI-compatible server (Ollama, llama.cpp, vLLM, LM Studio):",
            "      export NEXUS_LOCAL_BASE_URL=http://localhost:11434/v1 NEXUS_LOCAL_MODEL=qwen2.5-coder",
            "or the same keys under [providers.<name>] in nexus.toml (see docs/providers.md).",
            "Everything else in Nexus works without one.",
        ]
        super().__init__("\n".join(lines))


class InvalidRequestError(ProviderError):
    pass


class ProviderAuthError(ProviderError):
    pass


class ProviderRejectedError(ProviderError):
    pass


class RateLimitError(ProviderError):
    retryable = True

    def __init__(self, message: str, *, provider: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, provider=provider)
        self.retry_after = retry_after


class ProviderTimeoutError(ProviderError):
    retryable = True


class ProviderUnavailableError(ProviderError):
    retryable = True


class CircuitOpenError(ProviderError):
    def __init__(self, provider: str, retry_in: float, failures: int) -> None:
        super().__init__(
            f"{provider} is skipped after {failures} failures in a row; it will be tried again in "
            f"{retry_in:.0f}s (providers.breaker_reset)",
            provider=provider,
        )
        self.retry_in = retry_in


class StreamInterruptedError(ProviderError):
    def __init__(self, message: str, *, provider: str | None = None, partial_text: str = "") -> None:
        super().__init__(message, provider=provider)
        self.partial_text = partial_text

    def to_json(self) -> dict[str, object]:
        return {**super().to_json(), "partialText": self.partial_text}


class AllProvidersFailedError(ProviderError):
    def __init__(self, errors: Sequence[ProviderError]) -> None:
        detail = "\n".join(f"  - {e.provider}: {e}" for e in errors)
        super().__init__(f"every configured provider failed:\n{detail}")
        self.errors = tuple(errors)

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        return any(e.retryable for e in self.errors)


def from_status(
    provider: str,
    status: int,
    upstream_message: str | None,
    *,
    key_hint: str,
    model: str,
    retry_after: float | None = None,
) -> ProviderError:
    """Translate an HTTP error status into the matching ProviderError with an actionable message.

    ``key_hint`` names where the key comes from (``ANTHROPIC_API_KEY``) so the user knows what to fix.
    """
    said = ""
    if upstream_message:
        text = " ".join(str(upstream_message).split())
        said = f": {text[:_MAX_UPSTREAM_MESSAGE]}"
    if status == 401:
        return ProviderAuthError(f"{provider} rejected the API key (HTTP 401){said}; check {key_hint}",
                                 provider=provider)
    if status == 403:
        return ProviderAuthError(
            f"{provider} refused access (HTTP 403){said}; the key in {key_hint} may lack access to {model}",
            provider=provider)
    if status == 404:
        return ProviderRejectedError(
            f"{provider} does not know model {model!r} or the base URL is wrong (HTTP 404){said}; "
            f"check providers.{provider}.model and base_url", provider=provider)
    if status == 429:
        when = f"retry after {retry_after:g}s" if retry_after is not None else "try again later"
        return RateLimitError(
            f"{provider} is rate limiting requests (HTTP 429){said}; {when}, or list another provider "
            "in providers.order to fall back to", provider=provider, retry_after=retry_after)
    if status == 408 or status >= 500:
        return ProviderUnavailableError(f"{provider} is unavailable (HTTP {status}){said}", provider=provider)
    return ProviderRejectedError(f"{provider} rejected the request (HTTP {status}){said}", provider=provider)


def connection_failed(provider: str, base_url: str, cause: BaseException) -> ProviderUnavailableError:
    reason = type(cause).__name__
    return ProviderUnavailableError(
        f"cannot reach {provider} at {safe_url(base_url)} ({reason}); check the network and "
        f"providers.{provider}.base_url",
        provider=provider,
    )


def timed_out(provider: str, seconds: float, what: str = "nothing arrived") -> ProviderTimeoutError:
    return ProviderTimeoutError(
        f"{provider}: {what} within {seconds:g}s; raise providers.timeout if the model is slow",
        provider=provider,
    )


def interrupted(provider: str, partial_text: str, cause: str) -> StreamInterruptedError:
    return StreamInterruptedError(
        f"{provider}'s answer broke off after {len(partial_text)} characters ({cause}); "
        "the partial text is kept on the error",
        provider=provider,
        partial_text=partial_text,
    )
