"""AI providers (Anthropic, OpenAI, Gemini, local OpenAI-compatible servers) behind one router.

Importing this package does not import any SDK; a provider's SDK loads when it is first called.
See docs/providers.md for settings and examples.
"""

from __future__ import annotations

from .base import Provider, create_provider
from .chain import ChainRequest, ChainResult, ChainStep, StepResult, run_chain, run_processor
from .errors import (
    AllProvidersFailedError,
    CircuitOpenError,
    InvalidRequestError,
    NoProviderError,
    ProviderAuthError,
    ProviderError,
    ProviderRejectedError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitError,
    StreamInterruptedError,
)
from .resilience import BreakerState, CircuitBreaker, RetryPolicy, parse_retry_after
from .router import ChatStream, ProviderRouter
from .settings import ProviderConfig, ProvidersConfig, Secret, Target, load_providers_config
from .types import Completion, Message, Request, Role, Tokens, ToolCall, ToolResult, ToolSpec, Usage

__all__ = [
    "AllProvidersFailedError", "BreakerState", "ChainRequest", "ChainResult", "ChainStep", "ChatStream",
    "CircuitBreaker", "CircuitOpenError", "Completion", "InvalidRequestError", "Message", "NoProviderError",
    "Provider", "ProviderAuthError", "ProviderConfig", "ProviderError", "ProviderRejectedError",
    "ProviderRouter", "ProviderTimeoutError", "ProviderUnavailableError", "ProvidersConfig", "RateLimitError",
    "Request", "RetryPolicy", "Role", "Secret", "StepResult", "StreamInterruptedError", "Target", "Tokens",
    "ToolCall", "ToolResult", "ToolSpec", "Usage", "create_provider", "load_providers_config", "parse_retry_after", "run_chain", "run_processor",
]
