"""OpenAI through the official ``openai`` SDK (chat completions, streamed), and the base class for
every OpenAI-compatible endpoint (Gemini, Ollama, llama.cpp, vLLM, LM Studio).

Wire facts this relies on: each SSE chunk is a ``chat.completion.chunk`` whose ``choices[0].delta``
carries text; the choice's ``finish_reason`` marks the end of the answer; with
``stream_options.include_usage`` a last chunk with no choices carries ``usage``; ``[DONE]`` closes the
stream (the SDK consumes it). A stream that ends without a ``finish_reason`` did not finish.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, Mapping
from typing import Any, ClassVar

import httpx2
import openai

from . import errors
from .resilience import parse_retry_after
from .settings import ProviderConfig
from .types import Message, Request, Tokens, ToolCall

log = logging.getLogger(__name__)


class OpenAICompatibleProvider:
    """Chat completions against any OpenAI-compatible server; subclasses set the dialect."""

    # OpenAI's current models want max_completion_tokens; most compatible servers only know max_tokens.
    max_tokens_param: ClassVar[str] = "max_tokens"
    # Ask for a final usage chunk; servers that ignore the option simply report no token counts.
    include_usage: ClassVar[bool] = True
    # Key sent when the server needs none (local servers); the SDK insists on one.
    placeholder_key: ClassVar[str | None] = None

    def __init__(self, config: ProviderConfig, *, timeout: float, connect_timeout: float) -> None:
        key = config.api_key.reveal() if config.api_key else self.placeholder_key
        if key is None:
            raise errors.NoProviderError(f"{config.name} is not configured: {config.how_to_configure()}")
        self._config = config
        self._timeout = timeout
        self._client = openai.AsyncOpenAI(
            api_key=key,
            base_url=config.base_url,
            max_retries=0,  # the router retries, so every attempt is counted by its breaker
            timeout=httpx2.Timeout(timeout, connect=connect_timeout),
        )

    @property
    def name(self) -> str:
        return self._config.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, base_url={errors.safe_url(str(self._client.base_url))!r})"

    async def aclose(self) -> None:
        await self._client.close()

    def _params(self, request: Request, model: str) -> dict[str, Any]:
        messages: list[dict[str, Any]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        for m in request.conversation():
            messages += _messages(m)
        params: dict[str, Any] = {"model": model, "messages": messages, "stream": True,
                                  self.max_tokens_param: request.max_tokens}
        if request.tools:
            params["tools"] = [{"type": "function", "function": {"name": t.name, "description": t.description,
                                                                 "parameters": dict(t.input_schema)}}
                               for t in request.tools]
        if self.include_usage:
            params["stream_options"] = {"include_usage": True}
        if request.temperature is not None:
            params["temperature"] = request.temperature
        if request.stop:
            params["stop"] = list(request.stop)
        return params

    async def stream(self, request: Request, model: str) -> AsyncGenerator[str | Tokens, None]:
        try:
            sdk_stream = await self._client.chat.completions.create(**self._params(request, model))
        except (openai.OpenAIError, httpx2.HTTPError) as exc:
            raise self._translate(exc, model) from exc

        partial: list[str] = []
        input_tokens: int | None = None
        output_tokens: int | None = None
        stop_reason: str | None = None
        resolved_model = model
        calls: dict[int, tuple[list[str], list[str], list[str]]] = {}  # index -> id, name, argument pieces
        try:
            async with sdk_stream:
                async for chunk in sdk_stream:
                    resolved_model = chunk.model or resolved_model
                    if chunk.usage is not None:
                        input_tokens = chunk.usage.prompt_tokens
                        output_tokens = chunk.usage.completion_tokens
                    for choice in chunk.choices:
                        if choice.index != 0:
                            continue
                        if choice.delta is not None and choice.delta.content:
                            partial.append(choice.delta.content)
                            yield choice.delta.content
                        for piece in (choice.delta.tool_calls or []) if choice.delta is not None else []:
                            ids, names, args = calls.setdefault(piece.index, ([], [], []))
                            if piece.id:
                                ids.append(piece.id)
                            if piece.function is not None:
                                names.append(piece.function.name or "")
                                args.append(piece.function.arguments or "")
                        if choice.finish_reason:
                            stop_reason = choice.finish_reason
        except (openai.OpenAIError, httpx2.HTTPError) as exc:
            if partial:
                raise errors.interrupted(self.name, "".join(partial), f"{type(exc).__name__}: {exc}") from exc
            raise self._translate(exc, model) from exc
        if stop_reason is None:
            if partial:
                raise errors.interrupted(self.name, "".join(partial), "the stream ended without a finish_reason")
            raise errors.ProviderUnavailableError(
                f"{self.name} closed the stream before sending any text", provider=self.name)
        yield Tokens(input_tokens, output_tokens, resolved_model, stop_reason,
                     tuple(ToolCall.parse("".join(i) or f"call_{n}", "".join(name), "".join(a))
                           for n, (i, name, a) in sorted(calls.items())))

    def _translate(self, exc: BaseException, model: str) -> errors.ProviderError:
        base_url = str(self._client.base_url)
        if isinstance(exc, openai.APIStatusError):
            headers: Mapping[str, str] = exc.response.headers
            return errors.from_status(self.name, exc.status_code, _body_message(exc.body) or exc.message,
                                      key_hint=self._config.key_hint, model=model,
                                      retry_after=parse_retry_after(headers))
        if isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException):
            return errors.timed_out(self.name, self._timeout)
        if isinstance(exc, openai.APIConnectionError | httpx2.HTTPError):
            return errors.connection_failed(self.name, base_url, exc.__cause__ or exc)
        if isinstance(exc, openai.APIError):  # an error object inside the stream
            return errors.ProviderUnavailableError(f"{self.name} reported an error: {exc.message}",
                                                   provider=self.name)
        log.error("%s: unexpected SDK error", self.name, exc_info=exc)
        return errors.ProviderError(f"{self.name} failed: {type(exc).__name__}: {exc}", provider=self.name)


class OpenAIProvider(OpenAICompatibleProvider):
    max_tokens_param = "max_completion_tokens"


def _messages(message: Message) -> list[dict[str, Any]]:
    """One turn as chat-completions messages: tool results are ``tool`` messages of their own."""
    out: list[dict[str, Any]] = [{"role": "tool", "tool_call_id": r.call_id, "content": r.content}
                                 for r in message.tool_results]
    if message.tool_calls:
        out.append({"role": "assistant", "content": message.content or None, "tool_calls": [
            {"id": c.id, "type": "function",
             "function": {"name": c.name, "arguments": json.dumps(dict(c.arguments or {}))}}
            for c in message.tool_calls]})
    elif message.content or not message.tool_results:
        out.append({"role": message.role, "content": message.content})
    return out


def _body_message(body: object) -> str | None:
    if isinstance(body, Mapping):
        error = body.get("error", body)
        if isinstance(error, Mapping) and isinstance(error.get("message"), str):
            return str(error["message"])
    return None
