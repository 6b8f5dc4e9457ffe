"""A model served on the user's machine or network by an OpenAI-compatible server: Ollama
(``http://localhost:11434/v1``), llama.cpp's ``llama-server`` (``http://localhost:8080/v1``), vLLM
(``http://localhost:8000/v1``) or LM Studio (``http://localhost:1234/v1``).

These servers need no key, but the SDK refuses to start without one, so a placeholder is sent unless
``NEXUS_LOCAL_API_KEY`` (or ``api_key_env``) provides a real one, as vLLM's ``--api-key`` expects.
They take ``max_tokens``; older ones ignore ``stream_options``, and then no token counts are reported.
"""

from __future__ import annotations

from .openai import OpenAICompatibleProvider


class LocalProvider(OpenAICompatibleProvider):
    max_tokens_param = "max_tokens"
    placeholder_key = "nexus-local"
