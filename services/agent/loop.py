"""The agent loop: ask the model, run the tools it calls, send back their results, until it answers
without calling a tool or a limit ends it.

Every tool call is an operation call through the registry (validated, role- and permission-checked,
cancellable), and leaves a :class:`StepReceipt`: the tool, its arguments, a summary of what it returned,
how long it took and how big its result was; every model turn leaves a :class:`Turn` with its tokens.
Limits: steps (model turns), tokens (input + output over all turns), wall time, per-tool time, and
repeats (the same call with the same arguments). What a tool reports as an error (a bad argument, a
path outside the workspace, a timeout) goes back to the model as an error result, so it can correct
itself; a provider failure (429, a cut stream) ends the run with the error and keeps the receipts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from nexus.engine.errors import NexusError

from ..codec import WIRE
from ..errors import ErrorCode, OperationError, translate
from ..operation import Event
from ..permission import Permission
from ..tools import Tool, Toolbox

if TYPE_CHECKING:
    from nexus.engine.providers import Message, ProviderRouter, ToolCall

    from ..call import Call
    from ..registry import Registry

log = logging.getLogger(__name__)

MAX_RESULT_CHARS = 16_000  # of one tool result sent to the model
SUMMARY_CHARS = 300
OPERATIONS = ("search", "files.read", "files.range", "graph", "repo.map", "code.definition", "code.references",
              "code.hover", "diagnostics", "status", "context.get", "edit.propose", "tests.run", "execute",
              "kernel.variables")
"""The operations the agent is offered (those its level allows): not the AI operations (a model calling
models) nor the ones that only manage Nexus's own state."""

SYSTEM = """You are Nexus's coding agent, working in the user's workspace through tools.
Find facts with the tools before you answer: search the code, read the files and ranges that matter,
follow the code graph, run the tests when you may. Never guess file contents.
To change code, call edit_propose with exact oldText copied from the file (it must occur once) and the
newText; the proposal is applied to a scratch copy and verified (it parses, no new problems, its tests
pass) and shown to the user, who decides. You cannot write the user's files yourself.
When you are done, answer briefly: what you found, what you propose, and whether it was verified."""

Approver = Callable[[Tool, dict[str, Any]], Awaitable[bool]]
"""Asks the user whether a tool call above the pre-allowed level may run (LSP showMessageRequest, an ACP
permission request); True runs it."""


@dataclasses.dataclass(frozen=True, slots=True)
class AgentLimits:
    max_steps: int = 20  # model turns
    max_tokens: int = 400_000  # input + output tokens over all turns
    wall_seconds: float = 600.0
    tool_seconds: float = 180.0
    max_repeats: int = 2  # identical calls run; later ones get an error instead
    max_output_tokens: int = 4096  # per model turn


@dataclasses.dataclass(frozen=True, slots=True)
class StepReceipt:
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
    result_tokens: int  # estimated (4 characters a token): what the result cost in the next turn's input


@dataclasses.dataclass(frozen=True, slots=True)
class Turn:
    __pydantic_config__ = WIRE
    index: int
    input_tokens: int | None
    output_tokens: int | None
    tool_calls: int
    latency_ms: float


@dataclasses.dataclass(slots=True)
class AgentOutcome:
    answer: str = ""
    stop_reason: str = "answered"  # answered, max_steps, max_tokens, wall_time, loop, error, cancelled
    steps: list[StepReceipt] = dataclasses.field(default_factory=list)
    turns: list[Turn] = dataclasses.field(default_factory=list)
    proposals: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    error: dict[str, Any] | None = None

    @property
    def input_tokens(self) -> int:
        return sum(t.input_tokens or 0 for t in self.turns)

    @property
    def output_tokens(self) -> int:
        return sum(t.output_tokens or 0 for t in self.turns)


class _Stop(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


async def run_agent(call: Call, registry: Registry, router: ProviderRouter, task: str, *,
                    allow: Permission = Permission.EDIT, limits: AgentLimits | None = None,
                    history: tuple[Message, ...] = (), provider: str | None = None, model: str | None = None,
                    approver: Approver | None = None, ask: Permission | None = None,
                    system: str | None = None) -> AsyncIterator[Event | AgentOutcome]:
    """Yield ``Event("agent:delta", {"text"})`` for the model's text, ``Event("agent:step", receipt)`` after
    each tool call, then the :class:`AgentOutcome`. Tools up to ``allow`` run; with an ``approver``, tools up
    to ``ask`` are offered too and run only when it says yes. Closing the iterator stops the model and the
    running tool."""
    from nexus.engine.providers import Message, ProviderError, Request, ToolResult, ToolSpec

    limits = limits or AgentLimits()
    offered = ask if approver is not None and ask is not None and ask > allow else allow
    toolbox = Toolbox(registry, offered, OPERATIONS)
    specs = tuple(ToolSpec(t.name, t.description, t.input_schema) for t in toolbox)
    messages: list[Message] = [*history, Message("user", task)]
    outcome = AgentOutcome()
    deadline = time.monotonic() + limits.wall_seconds
    seen: dict[str, int] = {}
    refused_repeats = 0
    try:
        for turn_index in range(1, limits.max_steps + 1):
            used = outcome.input_tokens + outcome.output_tokens
            if used >= limits.max_tokens:
                raise _Stop("max_tokens", f"the token limit ({limits.max_tokens}) was reached")
            request = Request(messages=tuple(messages), system=system or SYSTEM, tools=specs, model=model,
                              max_tokens=max(1, min(limits.max_output_tokens, limits.max_tokens - used)))
            started = time.perf_counter()
            try:
                stream = router.stream(request, role="chat", provider=provider)
                async with stream:
                    iterator = aiter(stream)
                    while True:
                        try:
                            async with asyncio.timeout_at(_loop_time(deadline)):
                                delta = await anext(iterator)
                        except StopAsyncIteration:
                            break
                        except TimeoutError:
                            raise _Stop("wall_time", f"the time limit ({limits.wall_seconds:g} s) was reached") \
                                from None
                        yield Event("agent:delta", {"text": delta})
            except ProviderError as exc:
                from ..ops._ai import provider_error

                failed = provider_error(exc)
                outcome.stop_reason = "error"
                outcome.error = {"code": failed.code.value, "message": failed.message, **failed.extra}
                break
            usage = stream.usage
            calls = usage.tool_calls if usage is not None else ()
            outcome.turns.append(Turn(turn_index, usage.input_tokens if usage else None,
                                      usage.output_tokens if usage else None, len(calls),
                                      round((time.perf_counter() - started) * 1000, 1)))
            if call.backends.on_usage is not None and usage is not None:
                call.backends.on_usage(usage)
            if not calls:
                outcome.answer = stream.text
                break
            results = []
            for tool_call in calls:
                key = f"{tool_call.name}\0{tool_call.raw or json.dumps(tool_call.arguments, sort_keys=True)}"
                seen[key] = seen.get(key, 0) + 1
                if seen[key] > limits.max_repeats:
                    refused_repeats += 1
                    if refused_repeats > limits.max_repeats:
                        raise _Stop("loop", f"the model kept calling {tool_call.name} with the same arguments")
                    receipt, content = _refused(outcome, turn_index, tool_call,
                                                f"{tool_call.name} was already called {seen[key] - 1} times with "
                                                "these arguments; use those results or try something else")
                else:
                    receipt, content = await _run_tool(call, toolbox, tool_call, outcome, turn_index, limits,
                                                       deadline, allow, approver)
                outcome.steps.append(receipt)
                yield Event("agent:step", receipt)
                results.append(ToolResult(tool_call.id, content, not receipt.ok))
            messages += [Message("assistant", stream.text, tool_calls=calls),
                         Message("user", "", tool_results=tuple(results))]
        else:
            outcome.stop_reason = "max_steps"
            outcome.answer = f"Stopped after {limits.max_steps} steps without a final answer."
    except _Stop as stop:
        outcome.stop_reason = stop.reason
        outcome.answer = f"Stopped: {stop}."
    yield outcome


def _loop_time(deadline: float) -> float:
    return asyncio.get_running_loop().time() + max(0.0, deadline - time.monotonic())


def _refused(outcome: AgentOutcome, turn: int, tool_call: ToolCall, message: str) -> tuple[StepReceipt, str]:
    receipt = StepReceipt(len(outcome.steps) + 1, turn, tool_call.name, "", tool_call.arguments or tool_call.raw,
                          False, message[:SUMMARY_CHARS], 0.0, len(message), _tokens(message))
    return receipt, message


async def _run_tool(call: Call, toolbox: Toolbox, tool_call: ToolCall, outcome: AgentOutcome, turn: int,
                    limits: AgentLimits, deadline: float, allow: Permission,
                    approver: Approver | None) -> tuple[StepReceipt, str]:
    started = time.perf_counter()
    operation = ""
    ok = False
    try:
        if tool_call.arguments is None:
            raise OperationError(ErrorCode.BAD_REQUEST, f"the arguments of {tool_call.name} are not a JSON object: "
                                 f"{tool_call.raw[:200]!r}")
        tool = toolbox.require(tool_call.name)
        operation = tool.operation.name
        arguments = dict(tool_call.arguments)
        if tool.permission > allow:
            if approver is None or not await approver(tool, arguments):
                raise OperationError(ErrorCode.FORBIDDEN, f"the user did not allow {tool.name} "
                                     f"({tool.permission.label})")
        seconds = min(limits.tool_seconds, max(0.0, deadline - time.monotonic()))
        result = await _call_operation(call, toolbox.registry, operation, arguments, seconds)
        ok = True
        if operation == "edit.propose" and isinstance(result, dict):
            outcome.proposals.append(result)
        content = json.dumps(result, ensure_ascii=False)
        summary = _summary(operation, result, content)
    except OperationError as exc:
        content = f"{exc.code.value}: {exc.message}"
        summary = content
    if len(content) > MAX_RESULT_CHARS:
        content = content[:MAX_RESULT_CHARS] + f"\n... (truncated: {len(content)} characters in all)"
    receipt = StepReceipt(len(outcome.steps) + 1, turn, tool_call.name, operation,
                          tool_call.arguments if tool_call.arguments is not None else tool_call.raw, ok,
                          summary[:SUMMARY_CHARS], round((time.perf_counter() - started) * 1000, 1), len(content),
                          _tokens(content))
    return receipt, content


async def _call_operation(call: Call, registry: Registry, name: str, arguments: dict[str, Any],
                          seconds: float) -> Any:
    """The operation's result; raises OperationError (a timeout is ``failed``, a bug ``internal``)."""
    final: Any = None
    stream = registry.call(name, arguments, call)
    try:
        async with asyncio.timeout(seconds):
            async for item in stream:
                if item.final:
                    final = item.data
    except TimeoutError:
        raise OperationError(ErrorCode.FAILED, f"{name} did not finish within {seconds:.0f} s") from None
    except NexusError as exc:
        translated = translate(exc)
        if translated is None:
            log.exception("tool %s failed", name)
            raise OperationError(ErrorCode.INTERNAL, f"{name} failed; see the server's log") from exc
        raise translated from exc
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    return final


def _summary(operation: str, result: Any, content: str) -> str:
    """What a tool returned, in a line: counts and the first items rather than the raw JSON."""
    if isinstance(result, dict):
        if isinstance(result.get("hits"), list):
            hits = result["hits"]
            where = ", ".join(f"{h.get('path')}:{h.get('line')}" for h in hits[:3] if isinstance(h, dict))
            return f"{len(hits)} hits" + (f" ({where})" if where else "")
        if operation == "edit.propose":
            return str(result.get("verification", {}).get("summary", "proposal"))
        if operation == "tests.run":
            return str(result.get("summary", ""))
        if "content" in result and "path" in result:
            return f"{result['path']}: {len(str(result['content']))} characters"
        if "text" in result and "path" in result:
            return f"{result['path']} lines {result.get('startLine')}-{result.get('endLine')}"
    return content[:SUMMARY_CHARS]


def _tokens(text: str) -> int:
    return (len(text) + 3) // 4
