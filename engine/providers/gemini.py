"""Google Gemini through its OpenAI-compatible endpoint
(``https://generativelanguage.googleapis.com/v1beta/openai/``) and the ``openai`` SDK.

Gemini's compatibility layer takes ``max_tokens`` (not OpenAI's newer ``max_completion_tokens``) and
the key as a Bearer token, which is what the SDK sends. Everything else is the OpenAI dialect.
"""

from __future__ import annotations

from .openai import OpenAICompatibleProvider


class GeminiProvider(OpenAICompatibleProvider):
    max_tokens_param = "max_tokens"
