"""``ai.agent``: the agent (``nexus.services.agent``) on every face: gateway ``ai:agent``, LSP
``nexus/agent`` (partial results), the Jupyter socket, ``nexus ask --agent``.

``allow`` is what the agent may do without asking: ``read`` (search, read, graph, diagnostics),
``edit`` (also propose verified edits; the default) or ``execute`` (also run code and the tests). Edits
are proposals: the result carries each
with its verification, and the user's files change only when the client calls ``edit.apply`` after the
user accepts. Items: ``agent:delta`` (text), ``agent:step`` (a tool call's receipt); the result is
``agent:done``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from pydantic import Field

from ..call import Call
from ..codec import WIRE, Float, Int, Name, Text
from ..errors import ErrorCode, OperationError
from ..identity import Role
from ..operation import Event, operation
from ..permission import Permission
from .ai_chat import ChatMessage, Delta

MAX_TASK = 200_000


@dataclasses.dataclass(frozen=True, slots=True)
class AgentParams:
    __pydantic_config__ = WIRE
    task: Annotated[Text, Field(min_length=1, max_length=MAX_TASK)]
    messages: Annotated[tuple[ChatMessage, ...], Field(max_length=200)] = ()  # earlier turns
    allow: Literal["read", "edit", "execute"] = "edit"
    max_steps: Annotated[Int, Field(ge=1, le=100)] = 20
    max_tokens: Annotated[Int, Field(ge=1000, le=10_000_000)] = 400_000
    wall_seconds: Annotated[Float, Field(gt=0, le=3600)] = 600.0
    tool_seconds: Annotated[Float, Field(gt=0, le=1800)] = 180.0
    provider: Name | None = None
    model: Name | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class StepEvent:
    __pydantic_config__ = WIRE
    index: int
    turn: int
    tool: str
    operation: str
    arguments: Any
    ok: bool
    summary: str
    duration_ms: float
    result_chars: int
    result_tokens: int


@dataclasses.dataclass(frozen=True, slots=True)
class TurnUsage:
    __pydantic_config__ = WIRE
    index: int
    input_tokens: int | None
    output_tokens: int | None
    tool_calls: int
    latency_ms: float


@dataclasses.dataclass(frozen=True, slots=True)
class AgentAnswer:
    __pydantic_config__ = WIRE
    answer: str
    stop_reason: str
    steps: tuple[StepEvent, ...]  # the receipt: every tool call
    turns: tuple[TurnUsage, ...]
    proposals: tuple[dict[str, Any], ...]  # edit.propose results: send one's edits to edit.apply to accept
    input_tokens: int
    output_tokens: int
    error: dict[str, Any] | None = None


@operation("ai.agent", params=AgentParams, result=AgentAnswer, role=Role.DEVELOPER, rate="ai", message="ai:agent",
           result_message="agent:done", events=(("agent:delta", Delta), ("agent:step", StepEvent)))
async def agent(call: Call, p: AgentParams) -> AsyncIterator[Event | AgentAnswer]:
    """An agent that works in the workspace with the operations as tools; its edits are verified proposals."""
    from nexus.engine.providers import Message, ProviderError
    from nexus.engine.providers import Role as ProviderRole

    from ..agent import AgentLimits, AgentOutcome, run_agent
    from ..registry import Registry
    from ._ai import provider_error

    router = call.backends.require_providers("the agent")
    try:
        router.config.targets(ProviderRole.CHAT, p.provider, p.model, None)
    except ProviderError as exc:
        raise provider_error(exc) from exc
    allow = Permission.parse(p.allow)
    if call.identity.role < allow.role():
        raise OperationError(ErrorCode.FORBIDDEN, f"ai:agent: allow={p.allow} needs the {allow.role().label} role")
    limits = AgentLimits(p.max_steps, p.max_tokens, p.wall_seconds, p.tool_seconds)
    history = tuple(Message(m.role, m.content) for m in p.messages)
    items = run_agent(call, Registry.default(), router, p.task, allow=allow, limits=limits, history=history,
                      provider=p.provider, model=p.model)
    try:
        async for item in items:
            if isinstance(item, AgentOutcome):
                yield AgentAnswer(item.answer, item.stop_reason,
                                  tuple(StepEvent(**dataclasses.asdict(s)) for s in item.steps),
                                  tuple(TurnUsage(**dataclasses.asdict(t)) for t in item.turns),
                                  tuple(item.proposals), item.input_tokens, item.output_tokens, item.error)
            elif item.kind == "agent:delta":
                yield Event("agent:delta", Delta(item.data["text"]))
            else:
                yield Event("agent:step", StepEvent(**dataclasses.asdict(item.data)))
    finally:
        await items.aclose()  # type: ignore[attr-defined]
