"""Values that cross the provider layer: what is asked (:class:`Request`), for which job
(:class:`Role`), and what came back (:class:`Usage`, :class:`Completion`).

They are plain frozen dataclasses so the LSP server, the gateway and the Jupyter extension can build
and serialise them without importing any SDK; ``to_json`` uses the camelCase keys of the seed's
``/api/processor`` API so adapters return them unchanged.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from .errors import InvalidRequestError

MessageRole = Literal["user", "assistant"]


class Role(enum.StrEnum):
    """The job a request does; each role can be served by a different provider and model."""

    CHAT = "chat"
    INLINE = "inline"  # inline (fill-in-the-middle) completion: small, fast, short answers
    EDIT = "edit"  # code actions that rewrite code: fix, refactor, docstring, tests

    @classmethod
    def parse(cls, value: str | Role) -> Role:
        try:
            return cls(value)
        except ValueError:
            names = ", ".join(r.value for r in cls)
            raise InvalidRequestError(f"unknown role {value!r}; expected one of {names}") from None


@dataclasses.dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool the model may call: ``input_schema`` is a JSON Schema object (the operation's parameters)."""

    name: str
    description: str
    input_schema: Mapping[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class ToolCall:
    """A call the model asked for. ``arguments`` is None when what it sent (``raw``) is not a JSON object:
    the caller tells the model so instead of guessing."""

    id: str
    name: str
    arguments: Mapping[str, Any] | None
    raw: str = ""

    @classmethod
    def parse(cls, call_id: str, name: str, raw: str) -> ToolCall:
        """The call with its JSON arguments parsed (an empty string is no arguments)."""
        try:
            value = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError:
            return cls(call_id, name, None, raw)
        return cls(call_id, name, value if isinstance(value, dict) else None, raw)


@dataclasses.dataclass(frozen=True, slots=True)
class ToolResult:
    call_id: str
    content: str
    is_error: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class Message:
    """A turn. An assistant turn may carry the tool calls it made; the user turn after it carries their
    results (Anthropic ``tool_use``/``tool_result`` blocks, OpenAI ``tool_calls`` and ``tool`` messages)."""

    role: MessageRole
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_results: tuple[ToolResult, ...] = ()

    def __post_init__(self) -> None:
        if self.role not in ("user", "assistant"):
            raise InvalidRequestError(f"message role must be 'user' or 'assistant', not {self.role!r}")
        if not isinstance(self.content, str):
            raise InvalidRequestError("message content must be a string")
        if self.tool_calls and self.role != "assistant":
            raise InvalidRequestError("only assistant messages carry tool calls")
        if self.tool_results and self.role != "user":
            raise InvalidRequestError("only user messages carry tool results")


@dataclasses.dataclass(frozen=True, slots=True)
class Request:
    """One model call. ``prompt`` is a convenience: it is appended as the last user message.

    ``model`` overrides the model the role would pick (only on the provider it is sent to; a
    fallback provider uses its own model for the role). ``temperature`` is passed to providers that
    still accept it (the Anthropic API of 2026-10-21 does not, so it is dropped there).
    """

    prompt: str | None = None
    messages: tuple[Message, ...] = ()
    system: str | None = None
    max_tokens: int = 1024
    temperature: float | None = None
    stop: tuple[str, ...] = ()
    model: str | None = None
    tools: tuple[ToolSpec, ...] = ()  # the model may answer with tool calls (Tokens.tool_calls)

    def __post_init__(self) -> None:
        if not self.messages and not self.prompt:
            raise InvalidRequestError("a request needs a prompt or at least one message")
        if not isinstance(self.max_tokens, int) or isinstance(self.max_tokens, bool) or self.max_tokens < 1:
            raise InvalidRequestError(f"max_tokens must be a positive integer, not {self.max_tokens!r}")
        if self.temperature is not None and not 0.0 <= float(self.temperature) <= 2.0:
            raise InvalidRequestError(f"temperature must be between 0 and 2, not {self.temperature!r}")
        if isinstance(self.stop, str) or any(not isinstance(s, str) or not s for s in self.stop):
            raise InvalidRequestError("stop must be a sequence of non-empty strings")
        conversation = self.conversation()
        if conversation[-1].role != "user":
            raise InvalidRequestError("the last message must come from the user")

    def conversation(self) -> tuple[Message, ...]:
        """The messages to send: ``messages`` followed by ``prompt`` as a user turn."""
        if self.prompt:
            return (*self.messages, Message("user", self.prompt))
        return self.messages

    def replace(self, **changes: Any) -> Request:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Request:
        """Build from the seed's processor body (``prompt``, ``maxTokens``, ``temperature``) plus
        ``messages``, ``system``, ``stop`` and ``model``. Raises InvalidRequestError on bad input."""
        if not isinstance(body, Mapping):
            raise InvalidRequestError("the request body must be a JSON object")
        raw_messages = body.get("messages") or ()
        if not isinstance(raw_messages, Sequence) or isinstance(raw_messages, str):
            raise InvalidRequestError("messages must be a list of {role, content} objects")
        messages = []
        for item in raw_messages:
            if not isinstance(item, Mapping):
                raise InvalidRequestError("messages must be a list of {role, content} objects")
            messages.append(Message(item.get("role"), item.get("content")))  # type: ignore[arg-type]
        stop = body.get("stop") or ()
        if isinstance(stop, str):
            stop = (stop,)
        max_tokens = body.get("maxTokens", body.get("max_tokens", 1024))
        temperature = body.get("temperature")
        if temperature is not None and (isinstance(temperature, bool) or not isinstance(temperature, int | float)):
            raise InvalidRequestError(f"temperature must be a number, not {temperature!r}")
        for key in ("prompt", "system", "model"):
            if body.get(key) is not None and not isinstance(body.get(key), str):
                raise InvalidRequestError(f"{key} must be a string")
        return cls(
            prompt=body.get("prompt"),
            messages=tuple(messages),
            system=body.get("system"),
            max_tokens=max_tokens,
            temperature=temperature,
            stop=tuple(stop),
            model=body.get("model"),
        )


@dataclasses.dataclass(frozen=True, slots=True)
class Tokens:
    """What a provider reports at the end of a stream; the router turns it into :class:`Usage`."""

    input_tokens: int | None
    output_tokens: int | None
    model: str
    stop_reason: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Usage:
    """The final record of a call. Times are milliseconds from the moment the call was made
    (so retries and fallbacks are included: it is what the user waited)."""

    provider: str
    model: str
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: float
    ttft_ms: float | None
    stop_reason: str | None = None
    attempts: int = 1
    tool_calls: tuple[ToolCall, ...] = ()  # what the model asked to call, when the request had tools

    @property
    def total_tokens(self) -> int | None:
        if self.input_tokens is None and self.output_tokens is None:
            return None
        return (self.input_tokens or 0) + (self.output_tokens or 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
            "totalTokens": self.total_tokens,
            "latencyMs": round(self.latency_ms, 3),
            "ttftMs": None if self.ttft_ms is None else round(self.ttft_ms, 3),
            "stopReason": self.stop_reason,
            "attempts": self.attempts,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class Completion:
    text: str
    usage: Usage

    def to_json(self) -> dict[str, Any]:
        """The seed's ``/api/processor/{provider}`` response, plus the full usage record."""
        return {
            "response": self.text,
            "tokensUsed": self.usage.total_tokens,
            "model": self.usage.model,
            "provider": self.usage.provider,
            "usage": self.usage.to_json(),
        }
