"""The seam every provider implements, and the factory that builds one from its settings.

A provider is deliberately thin: it speaks one wire protocol through its SDK, translates that SDK's
errors, and reports tokens. Retries, timeouts, the circuit breaker, fallback and usage timing live
in the router, once, for all of them. SDK modules are imported only when a provider of that kind is
first built, so commands that never call a model never pay for importing ``anthropic`` or ``openai``.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncGenerator
from typing import Protocol, runtime_checkable

from .settings import ProviderConfig
from .types import Request, Tokens

# kind -> "module:class" inside this package
_IMPLEMENTATIONS = {
    "anthropic": "anthropic:AnthropicProvider",
    "openai": "openai:OpenAIProvider",
    "gemini": "gemini:GeminiProvider",
    "local": "local:LocalProvider",
}


@runtime_checkable
class Provider(Protocol):
    """One model vendor behind one SDK client.

    ``stream`` yields non-empty text deltas, then exactly one :class:`Tokens` as its last item. It
    raises only ProviderError subclasses: a failure before any text as the matching error, a failure
    after some text as StreamInterruptedError carrying that text. Closing the iterator (``aclose()``,
    or cancelling the task that iterates it) closes the upstream HTTP response, so the provider stops
    generating.
    """

    @property
    def name(self) -> str: ...

    def stream(self, request: Request, model: str) -> AsyncGenerator[str | Tokens, None]: ...

    async def aclose(self) -> None: ...


def create_provider(config: ProviderConfig, *, timeout: float, connect_timeout: float) -> Provider:
    """Build the provider for ``config.kind``; ``timeout`` bounds each read, ``connect_timeout`` the
    TCP/TLS connect (the router enforces its own first-byte and idle timeouts on top)."""
    module_name, _, class_name = _IMPLEMENTATIONS[config.kind].partition(":")
    module = importlib.import_module(f"{__package__}.{module_name}")
    provider: Provider = getattr(module, class_name)(config, timeout=timeout, connect_timeout=connect_timeout)
    return provider
