"""``ai.chat``: a model's answer, streamed, always grounded in the workspace, with its receipt.

The question (``prompt``, or the last user message) is grounded the way ``nexus ask`` and the language
server's ``nexus/chat`` ground it (the assistant's retrieval over the index, to the chat budget); a stored
context (``contextId``) and a live notebook kernel's variables (``kernelId``) join it. The model sees them
in the system prompt; the client sees ``ai:delta`` items, then ``ai:done`` with the ``receipt``: every
piece the model was shown, with file, lines, kind, why, and tokens. ``role`` is the provider layer's job
name (``chat`` by default, ``inline``, ``edit``); ``provider`` pins one provider. Cancelling the call closes
the stream, which stops the upstream request.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from ..call import Call
from ..codec import WIRE, Bool, Float, Int, Name, Text
from ..errors import ErrorCode, OperationError
from ..identity import Role
from ..operation import Event, operation
from ._ai import kernel_note, provider_error, report_usage, usage_json

if TYPE_CHECKING:
    from nexus.engine.assistant import Grounding

MAX_TEXT = 4 * 1024 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class ChatMessage:
    __pydantic_config__ = WIRE
    role: Literal["user", "assistant"]
    content: Annotated[Text, Field(max_length=MAX_TEXT)]


@dataclasses.dataclass(frozen=True, slots=True)
class ChatParams:
    __pydantic_config__ = WIRE
    prompt: Annotated[Text, Field(max_length=MAX_TEXT)] | None = None
    messages: Annotated[tuple[ChatMessage, ...], Field(max_length=1000)] = ()
    system: Annotated[Text, Field(max_length=MAX_TEXT)] | None = None
    max_tokens: Annotated[Int, Field(ge=1, le=1_000_000)] = 1024
    temperature: Annotated[Float, Field(ge=0.0, le=2.0)] | None = None
    stop: Annotated[tuple[Annotated[Text, Field(min_length=1, max_length=256)], ...], Field(max_length=16)] = ()
    model: Name | None = None
    provider: Name | None = None
    role: Literal["chat", "inline", "edit"] = "chat"
    fallback: Bool | None = None
    context_id: Name | None = None  # a stored context (context.create) joins the system prompt
    kernel_id: Name | None = None  # a notebook kernel whose variables join it (Jupyter extension)
    open_files: Annotated[tuple[Annotated[Text, Field(max_length=4096)], ...], Field(max_length=100)] = ()
    budget: Annotated[Int, Field(ge=0, le=1_000_000)] | None = None  # workspace context tokens; 0: none


@dataclasses.dataclass(frozen=True, slots=True)
class ReceiptPiece:
    __pydantic_config__ = WIRE
    path: str
    start_line: int  # 1-based, inclusive
    end_line: int
    kind: str
    reason: str
    tokens: int


@dataclasses.dataclass(frozen=True, slots=True)
class Receipt:
    __pydantic_config__ = WIRE
    context_id: str | None  # the stored context the request named, if any
    token_count: int  # everything the model was shown besides the question
    pieces: tuple[ReceiptPiece, ...]
    note: str = ""  # why there is no workspace context, when there is none


@dataclasses.dataclass(frozen=True, slots=True)
class Delta:
    __pydantic_config__ = WIRE
    text: str


@dataclasses.dataclass(frozen=True, slots=True)
class ChatAnswer:
    __pydantic_config__ = WIRE
    response: str
    usage: dict[str, Any] | None
    receipt: Receipt


GROUNDING_NOTE = ("Excerpts of the user's workspace that may bear on the question follow; use them when they "
                  "do, say so when they do not answer it, and cite files by path.")


@operation("ai.chat", params=ChatParams, result=ChatAnswer, role=Role.DEVELOPER, rate="ai", message="ai:chat",
           result_message="ai:done", events=(("ai:delta", Delta),))
async def chat(call: Call, p: ChatParams) -> AsyncIterator[Event | ChatAnswer]:
    """A model's answer, streamed, grounded in the workspace (and a stored context), with its receipt."""
    from nexus.engine.providers import Message, ProviderError, Request
    from nexus.engine.providers import Role as ProviderRole

    question = p.prompt if p.prompt is not None else next(
        (m.content for m in reversed(p.messages) if m.role == "user"), "")
    if not question.strip():
        raise OperationError(ErrorCode.BAD_REQUEST, "ai:chat: give payload.prompt or at least one user message")
    router = call.backends.require_providers("AI chat")
    try:  # nothing configured, or an unknown provider name: say so before grounding anything
        router.config.targets(ProviderRole.parse(p.role), p.provider, p.model, p.fallback)
    except ProviderError as exc:
        raise provider_error(exc) from exc
    grounding = await _ground(call, p, question)
    blocks = [p.system] if p.system else []
    pieces = [_piece(e.path, e.start_line, e.end_line, e.kind, e.reason, e.tokens) for e in grounding.receipt]
    tokens = grounding.tokens
    if grounding.context_text:
        blocks.append(f"{GROUNDING_NOTE}\n<workspace_context>\n{grounding.context_text}</workspace_context>")
    if p.context_id is not None:
        block, stored, stored_tokens = await _stored_context(call, p.context_id)
        blocks.append(block)
        pieces = stored + pieces
        tokens += stored_tokens
    if p.kernel_id is not None:
        blocks.append(await kernel_note(call, p.kernel_id))
    try:
        request = Request(prompt=p.prompt, messages=tuple(Message(m.role, m.content) for m in p.messages),
                          system="\n\n".join(blocks) or None, max_tokens=p.max_tokens, temperature=p.temperature,
                          stop=tuple(p.stop), model=p.model)
        stream = router.stream(request, role=p.role, provider=p.provider, fallback=p.fallback)
        async with stream as answer:
            async for delta in answer:
                yield Event("ai:delta", Delta(delta))
    except ProviderError as exc:
        raise provider_error(exc) from exc
    report_usage(call, answer.usage)
    yield ChatAnswer(answer.text, usage_json(answer.usage),
                     Receipt(p.context_id, tokens, tuple(pieces), grounding.note))


async def _ground(call: Call, p: ChatParams, question: str) -> Grounding:
    """The workspace context for ``question`` (none, with a note, when the workspace has no index)."""
    from nexus.engine.assistant import AssistRequest, Grounding, Task

    if p.budget == 0:
        return Grounding(None, "", (), 0, "the request asked for no workspace context")
    handle = call.backends.workspace
    ws = await handle.get()
    indexed = await asyncio.to_thread(handle.fresh, ws)
    from nexus.engine.vcs import changed_files

    changed = await asyncio.to_thread(changed_files, handle.root) if indexed else ()
    request = AssistRequest(Task.CHAT, question, open_files=tuple(p.open_files), provider=p.provider,
                            model=p.model, budget=p.budget, changed_files=changed)
    grounding = await call.backends.assistant().ground(ws if indexed else None, request)
    if not indexed:
        return Grounding(None, "", (), 0, f"{handle.root} has no index yet: run `nexus index` for grounded answers")
    return grounding


async def _stored_context(call: Call, context_id: str) -> tuple[str, list[ReceiptPiece], int]:
    store = await call.backends.workspace.contexts()
    info = await asyncio.to_thread(store.get, context_id)  # ContextNotFound: not_found
    text = await asyncio.to_thread(store.text, context_id)
    stored = await asyncio.to_thread(store.pieces, context_id)
    pieces = [_piece(piece.path, piece.start_line, piece.end_line, piece.kind, piece.reason, piece.tokens)
              for piece in stored]
    return f"<context id=\"{context_id}\">\n{text}\n</context>", pieces, info.token_count


def _piece(path: str, start: int, end: int, kind: str, reason: str, tokens: int) -> ReceiptPiece:
    """A receipt piece from zero-based lines."""
    return ReceiptPiece(path, start + 1, end + 1, kind, reason, tokens)
