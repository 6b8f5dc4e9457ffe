"""Claude through the official ``anthropic`` SDK (Messages API, streamed).

Wire facts this relies on: the stream is ``message_start`` (input tokens, resolved model),
``content_block_start``, ``content_block_delta`` (``text_delta``), ``content_block_stop``,
``message_delta`` (stop reason, cumulative output tokens), ``message_stop``; a stream that ends
without ``message_stop`` did not finish. The API of 2026-10-21 (SDK 2.x) rejects ``temperature``, so
it is dropped here rather than turned into a 400. Overload or rate limits can also arrive mid-stream
as an SSE ``error`` event with status 200; their ``error.type`` says what they mean.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import anthropic
import httpx2

from . import errors
from .resilience import parse_retry_after
from .settings import ProviderConfig
from .types import Message, Request, Tokens, ToolCall

log = logging.getLogger(__name__)

# error.type of an SSE `error` event (sent with HTTP 200) -> the status it stands for
_ERROR_TYPE_STATUS = {
    "invalid_request_error": 400, "authentication_error": 401, "permission_error": 403,
    "not_found_error": 404, "request_too_large": 413, "rate_limit_error": 429, "api_error": 500,
    "timeout_error": 504, "overloaded_error": 529,
}


class AnthropicProvider:
    def __init__(self, config: ProviderConfig, *, timeout: float, connect_timeout: float) -> None:
        if config.api_key is None:
            raise errors.NoProviderError(f"{config.name} is not configured: {config.how_to_configure()}")
        self._config = config
        self._timeout = timeout
        self._client = anthropic.AsyncAnthropic(
            api_key=config.api_key.reveal(),
            base_url=config.base_url,
            max_retries=0,  # the router retries, so every attempt is counted by its breaker
            timeout=httpx2.Timeout(timeout, connect=connect_timeout),
        )

    @property
    def name(self) -> str:
        return self._config.name

    def __repr__(self) -> str:
        return f"AnthropicProvider(name={self.name!r}, base_url={errors.safe_url(str(self._client.base_url))!r})"

    async def aclose(self) -> None:
        await self._client.close()

    async def stream(self, request: Request, model: str) -> AsyncGenerator[str | Tokens, None]:
        params: dict[str, Any] = {
            "model": model,
            "max_tokens": request.max_tokens,
            "messages": [_message(m) for m in request.conversation()],
            "stream": True,
        }
        if request.tools:
            params["tools"] = [{"name": t.name, "description": t.description, "input_schema": dict(t.input_schema)}
                               for t in request.tools]
        if request.system:
            params["system"] = request.system
        if request.stop:
            params["stop_sequences"] = list(request.stop)
        if request.temperature is not None:
            log.debug("%s: temperature is not accepted by the Anthropic API; ignored", self.name)
        try:
            sdk_stream = await self._client.messages.create(**params)
        except (anthropic.AnthropicError, httpx2.HTTPError) as exc:
            raise self._translate(exc, model) from exc

        partial: list[str] = []
        input_tokens: int | None = None
        output_tokens: int | None = None
        stop_reason: str | None = None
        resolved_model = model
        finished = False
        calls: dict[int, tuple[str, str, list[str]]] = {}  # block index -> id, name, JSON pieces
        try:
            async with sdk_stream:
                async for event in sdk_stream:
                    if event.type == "content_block_delta":
                        if event.delta.type == "text_delta" and event.delta.text:
                            partial.append(event.delta.text)
                            yield event.delta.text
                        elif event.delta.type == "input_json_delta" and event.index in calls:
                            calls[event.index][2].append(event.delta.partial_json)
                    elif event.type == "content_block_start":
                        block = event.content_block
                        if block.type == "tool_use":
                            calls[event.index] = (block.id, block.name, [])
                    elif event.type == "message_start":
                        resolved_model = event.message.model or model
                        input_tokens = event.message.usage.input_tokens
                        output_tokens = event.message.usage.output_tokens
                    elif event.type == "message_delta":
                        output_tokens = event.usage.output_tokens
                        if event.usage.input_tokens is not None:
                            input_tokens = event.usage.input_tokens
                        stop_reason = event.delta.stop_reason
                    elif event.type == "message_stop":
                        finished = True
        except (anthropic.AnthropicError, httpx2.HTTPError) as exc:
            if partial:
                raise errors.interrupted(self.name, "".join(partial), _cause(exc)) from exc
            raise self._translate(exc, model) from exc
        if not finished:
            if partial:
                raise errors.interrupted(self.name, "".join(partial), "the stream ended before message_stop")
            raise errors.ProviderUnavailableError(
                f"{self.name} closed the stream before sending any text", provider=self.name)
        yield Tokens(input_tokens, output_tokens, resolved_model, stop_reason,
                     tuple(ToolCall.parse(i, n, "".join(parts)) for _, (i, n, parts) in sorted(calls.items())))

    def _translate(self, exc: BaseException, model: str) -> errors.ProviderError:
        base_url = str(self._client.base_url)
        if isinstance(exc, anthropic.APIStatusError):
            status = exc.status_code
            if status < 400:  # an SSE error event inside a 200 response
                status = _ERROR_TYPE_STATUS.get(str(exc.type or ""), 500)
            headers: Mapping[str, str] = exc.response.headers
            return errors.from_status(self.name, status, exc.api_message or _body_message(exc.body),
                                      key_hint=self._config.key_hint, model=model,
                                      retry_after=parse_retry_after(headers))
        if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException):
            return errors.timed_out(self.name, self._timeout)
        if isinstance(exc, anthropic.APIConnectionError | httpx2.HTTPError):
            return errors.connection_failed(self.name, base_url, exc.__cause__ or exc)
        log.error("%s: unexpected SDK error", self.name, exc_info=exc)
        return errors.ProviderError(f"{self.name} failed: {type(exc).__name__}: {exc}", provider=self.name)


def _message(message: Message) -> dict[str, Any]:
    if not message.tool_calls and not message.tool_results:
        return {"role": message.role, "content": message.content}
    blocks: list[dict[str, Any]] = []
    for result in message.tool_results:  # tool results come first in their user turn
        blocks.append({"type": "tool_result", "tool_use_id": result.call_id, "content": result.content,
                       "is_error": result.is_error})
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    for call in message.tool_calls:
        blocks.append({"type": "tool_use", "id": call.id, "name": call.name,
                       "input": dict(call.arguments) if call.arguments is not None else {}})
    return {"role": message.role, "content": blocks}


def _body_message(body: object) -> str | None:
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping) and isinstance(error.get("message"), str):
            return str(error["message"])
    return None


def _cause(exc: BaseException) -> str:
    if isinstance(exc, anthropic.APIStatusError):
        return f"{exc.type or 'error'} event: {exc.api_message or ''}".strip()
    return f"{type(exc).__name__}: {exc}"
