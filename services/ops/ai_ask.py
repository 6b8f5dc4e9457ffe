"""``ai.ask`` and ``ai.complete``: the assistant's answers, edits and ghost text for clients that hold the
code themselves (JupyterLab's cells), the way ``nexus ask`` and the language server serve them.

``ai.ask`` answers a question (``chat``) or acts on a document, usually a notebook cell: ``explain``,
``fix`` (with the cell's traceback as ``error``) or ``docstring``. Unlike ``ai.chat`` it answers without a
provider too: retrieval-only, the most relevant code of the workspace, labelled as not model-generated
and saying how to configure a provider (``generated`` is false), as ``nexus ask`` does; only
``docstring``, which needs a model, is then ``unavailable``. ``fix`` and ``docstring`` with a model
return the cell's new text as ``edit``. A kernel's variables (``kernelId``) join the question.

``ai.complete`` is inline completion: the text to insert at ``cursor`` (``null`` without a provider or
when the model offers nothing). Cancelling either call closes the model request.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from ..call import Call
from ..codec import WIRE, Int, Name, Text
from ..errors import ErrorCode, OperationError
from ..identity import Role
from ..operation import Event, operation
from ._ai import kernel_note, provider_error, report_usage, usage_json
from .ai_chat import MAX_TEXT, Delta, Receipt, ReceiptPiece

if TYPE_CHECKING:
    from nexus.engine.assistant import Answer, AssistRequest, FileEdit
    from nexus.engine.workspace import Workspace


@dataclasses.dataclass(frozen=True, slots=True)
class AskDocument:
    """The live text a request is about (a notebook cell's code), named by its workspace path."""

    __pydantic_config__ = WIRE
    path: Annotated[Text, Field(min_length=1, max_length=4096)]
    text: Annotated[Text, Field(max_length=MAX_TEXT)]
    language: Name | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class AskParams:
    __pydantic_config__ = WIRE
    prompt: Annotated[Text, Field(max_length=MAX_TEXT)] = ""
    task: Literal["chat", "explain", "fix", "docstring"] = "chat"
    document: AskDocument | None = None
    selection: Annotated[tuple[Int, Int], Field()] | None = None  # 0-based first and last line of the document
    error: Annotated[Text, Field(max_length=MAX_TEXT)] | None = None  # the traceback a fix is about
    kernel_id: Name | None = None
    open_files: Annotated[tuple[Annotated[Text, Field(max_length=4096)], ...], Field(max_length=100)] = ()
    provider: Name | None = None
    model: Name | None = None
    budget: Annotated[Int, Field(ge=0, le=1_000_000)] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class AskAnswer:
    __pydantic_config__ = WIRE
    response: str
    generated: bool  # false: retrieval-only (no provider configured), ``response`` says how to configure one
    provider: str
    model: str
    usage: dict[str, Any] | None
    receipt: Receipt
    edit: str | None = None  # fix / docstring: the document's new text


@dataclasses.dataclass(frozen=True, slots=True)
class CompleteParams:
    __pydantic_config__ = WIRE
    document: AskDocument
    cursor: tuple[Annotated[Int, Field(ge=0)], Annotated[Int, Field(ge=0)]]  # 0-based line, character (code point)
    kernel_id: Name | None = None
    provider: Name | None = None
    model: Name | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Completion:
    __pydantic_config__ = WIRE
    text: str | None  # None: no provider, or nothing to suggest
    available: bool  # whether a provider is configured


@operation("ai.ask", params=AskParams, result=AskAnswer, role=Role.DEVELOPER, rate="ai", message="ai:ask",
           result_message="ai:answer", events=(("ai:delta", Delta),))
async def ask(call: Call, p: AskParams) -> AsyncIterator[Event | AskAnswer]:
    """A grounded answer, explanation, fix or docstring; retrieval-only without a provider, as `nexus ask`."""
    from nexus.engine.assistant import AssistantError, Task
    from nexus.engine.providers import NoProviderError, ProviderError

    if p.task == "chat" and not p.prompt.strip():
        raise OperationError(ErrorCode.BAD_REQUEST, "ai:ask: give payload.prompt (the question)")
    if p.task != "chat" and p.document is None:
        raise OperationError(ErrorCode.BAD_REQUEST, f"ai:ask: {p.task} needs payload.document (the cell's code)")
    if p.task == "fix" and not (p.error or "").strip():
        raise OperationError(ErrorCode.BAD_REQUEST, "ai:ask: fix needs payload.error (the cell's traceback)")
    assistant = call.backends.assistant()
    ws = await _workspace(call)
    note = await kernel_note(call, p.kernel_id) if p.kernel_id is not None else ""
    task = Task(p.task)
    try:
        if task.edits and (assistant.available or p.provider is not None):
            proposal = await assistant.propose_edit(ws, _request(p, task, note))
            answer = proposal.answer
            yield Event("ai:delta", Delta(answer.text))
            edit = _apply(p, proposal.edits[0]) if proposal.edits else None
            report_usage(call, answer.usage)
            yield _answer(answer, edit)
            return
        if task is Task.DOCSTRING:
            raise NoProviderError(f"{task.label} needs a model. " + _how_to_configure())
        # A fix without a model is a question about the error: the code that bears on it.
        asked = Task.CHAT if task is Task.FIX else task
        stream = assistant.answer(ws, _request(p, asked, note))
        async with stream:
            async for delta in stream:
                yield Event("ai:delta", Delta(delta))
        answer = await stream.collect()
    except ProviderError as exc:
        raise provider_error(exc) from exc
    except AssistantError as exc:
        raise OperationError(ErrorCode.BAD_REQUEST, f"ai:ask: {exc}") from exc
    report_usage(call, answer.usage)
    yield _answer(answer, None)


@operation("ai.complete", params=CompleteParams, result=Completion, role=Role.DEVELOPER, rate="ai",
           message="ai:complete")
async def complete(call: Call, p: CompleteParams) -> Completion:
    """Inline completion: the text to insert at the cursor (null without a provider or a suggestion)."""
    from nexus.engine.assistant import AssistRequest, Document, Task
    from nexus.engine.providers import ProviderError

    assistant = call.backends.assistant()
    if not (assistant.available or p.provider is not None):
        return Completion(None, False)
    line, character = p.cursor
    rows = p.document.text.split("\n")
    row = min(line, max(len(rows) - 1, 0))
    column = len(rows[row][:character].encode("utf-8", "surrogatepass")) if rows else 0
    ws = await _workspace(call)
    request = AssistRequest(Task.INLINE, document=Document(p.document.path, p.document.text, p.document.language),
                            cursor=(row, column), provider=p.provider, model=p.model)
    try:
        found = await assistant.suggest(ws, request)
    except ProviderError as exc:
        raise provider_error(exc) from exc
    if found is not None:
        report_usage(call, found.usage)
    return Completion(found.text if found is not None else None, True)


async def _workspace(call: Call) -> Workspace | None:
    """The workspace when its index is there (grounding reads it), else None: answers say so."""
    handle = call.backends.workspace
    ws = await handle.get()
    return ws if await asyncio.to_thread(handle.fresh, ws) else None


def _request(p: AskParams, task: Any, note: str) -> AssistRequest:
    from nexus.engine.assistant import AssistRequest, Diagnostic, Document
    from nexus.engine.model import Span

    question = p.prompt
    if p.error and task.value == "chat" and p.task == "fix":
        question = f"{p.prompt}\nThis code fails with:\n{p.error}".strip()
    if note:
        question = f"{note}\n\n{question}".strip()
    document = selection = diagnostic = None
    if p.document is not None:
        document = Document(p.document.path, p.document.text, p.document.language)
        rows = p.document.text.split("\n")
        first, last = p.selection if p.selection is not None else (0, len(rows) - 1)
        last = min(max(first, last), len(rows) - 1)
        selection = Span(first, 0, last, len(rows[last].encode("utf-8", "surrogatepass")))
        if p.error:
            diagnostic = Diagnostic(p.error.strip()[-4000:], selection, "jupyter")
    return AssistRequest(task, question, document=document, selection=selection, diagnostic=diagnostic,
                         open_files=tuple(p.open_files), provider=p.provider, model=p.model, budget=p.budget)


def _apply(p: AskParams, edit: FileEdit) -> str | None:
    """The document's text with ``edit`` (a span of it replaced) applied."""
    if p.document is None or edit.span is None:
        return None
    lines = p.document.text.encode("utf-8", "surrogatepass").split(b"\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    data = p.document.text.encode("utf-8", "surrogatepass")
    span = edit.span
    text: str = edit.text
    start = min(starts[min(span.start_line, len(lines) - 1)] + span.start_col, len(data))
    end = min(starts[min(span.end_line, len(lines) - 1)] + span.end_col, len(data))
    return (data[:start] + text.encode("utf-8", "surrogatepass") + data[end:]).decode("utf-8", "surrogatepass")


def _answer(answer: Answer, edit: str | None) -> AskAnswer:
    pieces = tuple(ReceiptPiece(e.path, e.start_line + 1, e.end_line + 1, e.kind, e.reason, e.tokens)
                   for e in answer.receipt)
    return AskAnswer(answer.text, answer.generated, answer.provider, answer.model, usage_json(answer.usage),
                     Receipt(None, answer.context_tokens, pieces), edit)


def _how_to_configure() -> str:
    from nexus.engine.assistant.assistant import HOW_TO_CONFIGURE

    return HOW_TO_CONFIGURE
