"""``nexus/chat``: a question about the workspace, answered by the model with its context receipt.

Params ``{prompt, textDocument?, position?, range?, provider?, model?, partialResultToken?}``. The answer
streams as ``$/progress`` partial results ``{delta}`` and ends with ``{text, provider, model, usage,
receipt, generated}`` (docs/lsp-extensions.md). ``$/cancelRequest`` cancels the handler's task, which
closes the model stream and so the upstream HTTP request. Without a provider the answer is
retrieval-only and ``generated`` is false.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

from nexus.engine.assistant import AssistantError, AssistRequest, Task
from nexus.engine.errors import NexusError

from ..assist import (
    chat_result,
    engine_document,
    failure,
    lsp_range,
    open_files,
    params_of,
    point,
    position,
    progress_token,
    send_partial,
    span,
    state,
    text_document_uri,
    workspace_of,
)
from ..server import NexusServer

log = logging.getLogger(__name__)

METHOD = "nexus/chat"


def register(server: NexusServer) -> None:
    background: set[asyncio.Task[None]] = set()  # strong references: the loop keeps only weak ones

    def warmed(task: asyncio.Task[None]) -> None:
        background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("warming the AI providers failed: %s", task.exception())

    def warm() -> None:
        """Import the configured providers' SDKs now (about a second for anthropic), not on the first answer."""
        assist = state(server)
        if assist.ai_available():
            task = asyncio.ensure_future(assist.assistant().router.warm())
            background.add(task)
            task.add_done_callback(warmed)

    async def close() -> None:
        await state(server).aclose()

    server.on("initialized", warm)
    server.cleanups.append(close)  # an async def: the shutdown hook awaits coroutine functions only

    @server.feature(METHOD)
    async def nexus_chat(ls: NexusServer, params: Any) -> dict[str, Any]:
        args = params_of(params)
        prompt = args.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise JsonRpcInvalidParams(message="nexus/chat expects {prompt: non-empty string, textDocument?, "
                                               "position?, range?, provider?, model?, partialResultToken?}")
        for key in ("provider", "model"):
            if args.get(key) is not None and not isinstance(args[key], str):
                raise JsonRpcInvalidParams(message=f"nexus/chat: {key} must be a string")
        token = progress_token(args)
        request, ws = build_request(ls, Task.CHAT, args, prompt)
        return await answer(ls, request, ws, token)


def build_request(ls: NexusServer, task: Task, args: dict[str, Any], question: str) -> tuple[AssistRequest, Any]:
    """An AssistRequest from chat-shaped params (document, position, range, provider, model)."""
    if args.get("textDocument") is None:
        return AssistRequest(task, question, provider=args.get("provider"), model=args.get("model"),
                             open_files=_all_open(ls)), workspace_of(ls, None)
    doc = ls.document(text_document_uri(args["textDocument"]))
    document, folder = engine_document(ls, doc)
    cursor = point(doc, position(args["position"])) if args.get("position") is not None else None
    selection = span(doc, lsp_range(args["range"])) if args.get("range") is not None else None
    if cursor is None and selection is not None:
        cursor = (selection.start_line, selection.start_col)
    request = AssistRequest(task, question, document, selection, cursor, None,
                            open_files(ls, folder, document.path), args.get("provider"), args.get("model"))
    return request, workspace_of(ls, folder)


def _all_open(ls: NexusServer) -> tuple[str, ...]:
    folders = [f for f in ls.folders if f.ws is not None]
    return tuple(rel for rel in ls.sources(folders[0])) if folders else ()


async def answer(ls: NexusServer, request: AssistRequest, ws: Any, token: Any) -> dict[str, Any]:
    """Stream the answer to ``request`` as partial results (when ``token``); return the chat result."""
    try:
        stream = state(ls).assistant().answer(ws, request)
        async with stream:
            async for delta in stream:
                send_partial(ls, token, {"delta": delta})
    except AssistantError as exc:
        raise JsonRpcInvalidParams(message=str(exc)) from exc
    except NexusError as exc:
        log.warning("nexus/chat failed: %s", exc, exc_info=exc)
        raise failure(exc) from exc
    assert stream.result is not None
    return chat_result(stream.result, ws)
