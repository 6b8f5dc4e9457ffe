"""AI code actions: Explain, Fix this diagnostic, Add docstring, Write tests, Refactor.

``textDocument/codeAction`` only offers them (cheaply: no model call); each action carries a command
(``nexus.explain``, ``nexus.fixDiagnostic``, ``nexus.addDocstring``, ``nexus.writeTests``,
``nexus.refactor``) with the arguments ``[{textDocument: {uri}, range, diagnostic?, instruction?}]``,
and the model runs when the user picks one (``workspace/executeCommand``). Explain answers in the
``nexus/chat`` shape; the others send their edit through ``workspace/applyEdit`` (versioned, so an
editor refuses it if the document changed meanwhile) and answer ``{applied, label, edit, text,
receipt, provider, model, usage, generated}``.

Without a provider only Explain is offered (it then answers retrieval-only): an edit needs a model.
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from nexus.engine.assistant import AssistantError, AssistRequest, Task, enclosing
from nexus.engine.assistant.grounding import DOCUMENTED_KINDS
from nexus.engine.errors import NexusError

from ..assist import (
    ContentModified,
    chat_result,
    diagnostic,
    edit_json,
    engine_document,
    failure,
    lsp_range,
    open_files,
    params_of,
    receipt_json,
    span,
    state,
    text_document_uri,
    workspace_edit,
    workspace_of,
)
from ..server import NexusServer

log = logging.getLogger(__name__)

COMMANDS = {
    "nexus.explain": Task.EXPLAIN,
    "nexus.fixDiagnostic": Task.FIX,
    "nexus.addDocstring": Task.DOCSTRING,
    "nexus.writeTests": Task.TESTS,
    "nexus.refactor": Task.REFACTOR,
}
KINDS: dict[Task, types.CodeActionKind | None] = {
    Task.EXPLAIN: None,  # not a change: no kind, so editors list it with every selection
    Task.FIX: types.CodeActionKind.QuickFix,
    Task.DOCSTRING: types.CodeActionKind.RefactorRewrite,
    Task.TESTS: types.CodeActionKind.Source,
    Task.REFACTOR: types.CodeActionKind.RefactorRewrite,
}
OFFERED_KINDS = [types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite, types.CodeActionKind.Source]


def register(server: NexusServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=OFFERED_KINDS, resolve_provider=False))
    async def code_action(ls: NexusServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        doc = ls.documents.get(params.text_document.uri)
        if doc is None:
            return None
        ai = state(ls).ai_available()
        rng = params.range
        selected = (rng.start.line, rng.start.character) != (rng.end.line, rng.end.character)
        only = params.context.only
        actions: list[types.CodeAction] = []

        def offer(task: Task, title: str, arguments: dict[str, Any], diagnostics: list[types.Diagnostic] | None = None,
                  ) -> None:
            kind = KINDS[task]
            if only and (kind is None or not any(kind == o or kind.startswith(o + ".") for o in only)):
                return
            command = next(name for name, t in COMMANDS.items() if t is task)
            actions.append(types.CodeAction(title=title, kind=kind, diagnostics=diagnostics,
                                            command=types.Command(title=title, command=command, arguments=[arguments])))

        base = {"textDocument": {"uri": doc.uri}, "range": _json(ls, rng)}
        if ai:
            for diag in params.context.diagnostics:
                message = diag.message.splitlines()[0] if diag.message else "this problem"
                short = message if len(message) <= 60 else message[:57] + "..."
                offer(Task.FIX, f"Nexus: Fix “{short}”", {**base, "diagnostic": _json(ls, diag)}, [diag])
        if selected or params.context.diagnostics:
            offer(Task.EXPLAIN, "Nexus: Explain", base)
        if ai:
            definition = await ls.offload(_definition_at, doc, rng.start)
            if definition:
                offer(Task.DOCSTRING, f"Nexus: Add docstring to {definition}", base)
                offer(Task.TESTS, f"Nexus: Write tests for {definition}", base)
            if selected:
                offer(Task.REFACTOR, "Nexus: Refactor", base)
        return actions or None

    for name, task in COMMANDS.items():
        _register_command(server, name, task)


def _definition_at(doc: Any, pos: types.Position) -> str | None:
    row, _ = doc.lines.row_col(pos)
    found = enclosing(doc.source, row, DOCUMENTED_KINDS)
    return found.qualified_name if found is not None else None


def _json(ls: NexusServer, value: Any) -> Any:
    return ls.protocol._converter.unstructure(value)


def _register_command(server: NexusServer, name: str, task: Task) -> None:
    @server.command(name)
    async def run(ls: NexusServer, *arguments: Any) -> dict[str, Any]:
        return await execute(ls, task, arguments)


async def execute(ls: NexusServer, task: Task, arguments: tuple[Any, ...]) -> dict[str, Any]:
    args = params_of(arguments[0]) if arguments else {}
    if not args or "textDocument" not in args or "range" not in args:
        raise JsonRpcInvalidParams(message=f"{task.label}: arguments must be [{{textDocument: {{uri}}, range, "
                                           "diagnostic?, instruction?}}]")
    doc = ls.document(text_document_uri(args["textDocument"]))
    version = doc.version
    document, folder = engine_document(ls, doc)
    selection = span(doc, lsp_range(args["range"]))
    diag = diagnostic(doc, args.get("diagnostic"))
    if task is Task.FIX and diag is None:
        raise JsonRpcInvalidParams(message="Fix this diagnostic needs the diagnostic in its arguments")
    instruction = args.get("instruction") or ""
    if not isinstance(instruction, str):
        raise JsonRpcInvalidParams(message="instruction must be a string")
    request = AssistRequest(task, instruction, document, selection, (selection.start_line, selection.start_col),
                            diag, open_files(ls, folder, document.path))
    ws = workspace_of(ls, folder)
    assistant = state(ls).assistant()
    if task is Task.EXPLAIN:
        try:
            stream = assistant.answer(ws, request)
            async with stream:
                answer = await stream.collect()
        except AssistantError as exc:
            raise JsonRpcInvalidParams(message=str(exc)) from exc
        except NexusError as exc:
            log.warning("%s failed: %s", task.label, exc)
            raise failure(exc) from exc
        return chat_result(answer, ws)
    try:
        proposal = await assistant.propose_edit(ws, request)
    except AssistantError as exc:
        raise JsonRpcInvalidParams(message=str(exc)) from exc
    except NexusError as exc:
        log.warning("%s failed: %s", task.label, exc)
        raise failure(exc) from exc
    if doc.version != version and ls.documents.get(doc.uri) is doc:
        raise ContentModified(f"{doc.uri} changed while Nexus was working on {task.label}; run it again")
    edit = workspace_edit(ls, ws, proposal.edits, {doc.uri: version} if ls.documents.get(doc.uri) else None)
    label = f"Nexus: {task.label}"
    result = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label=label))
    if not result.applied:
        log.info("%s: the editor did not apply the edit (%s)", task.label, result.failure_reason)
    answer = proposal.answer
    return {"applied": bool(result.applied), "failureReason": result.failure_reason, "label": label,
            "edit": edit_json(edit, ls), "note": proposal.note, **chat_result(answer, ws),
            "receipt": receipt_json(answer.receipt, ws)}
