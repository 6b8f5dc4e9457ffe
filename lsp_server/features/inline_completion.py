"""``textDocument/inlineCompletion``: ghost text from the model, a fill-in-the-middle prompt grounded in
the workspace (definitions used at the cursor, ranked code) within the inline budget.

Automatic requests (the editor asks as the user types) wait ``assistant.inline_debounce_ms`` before
calling the model; explicit ones (``triggerKind`` Invoked) go at once. A request is dropped as soon as
it is stale: a newer inline request for the same document, or any edit of the document, cancels the
work in flight (the upstream model request is closed) and the request ends with ContentModified.
``$/cancelRequest`` cancels it the same way. Without a provider the answer is empty.
"""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types

from nexus.engine.assistant import AssistRequest, InlineSuggestion, Task
from nexus.engine.errors import NexusError

from ..assist import ContentModified, engine_document, failure, open_files, point, state, workspace_of
from ..documents import Document as LspDocument
from ..server import NexusServer

log = logging.getLogger(__name__)


def register(server: NexusServer) -> None:
    inflight: dict[str, asyncio.Task[InlineSuggestion | None]] = {}
    stale: set[asyncio.Task[InlineSuggestion | None]] = set()

    def drop(doc: LspDocument) -> None:
        task = inflight.pop(doc.uri, None)
        if task is not None and not task.done():
            stale.add(task)
            task.cancel()

    server.on("changed", drop)
    server.on("closed", drop)

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(ls: NexusServer,
                                params: types.InlineCompletionParams) -> types.InlineCompletionList | None:
        doc = ls.document(params.text_document.uri)
        assist = state(ls)
        if not assist.ai_available():
            return None
        drop(doc)  # a newer request for this document replaces the one in flight
        explicit = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
        work = asyncio.ensure_future(_suggest(ls, doc, params.position, explicit))
        inflight[doc.uri] = work
        try:
            suggestion = await asyncio.shield(work)
        except asyncio.CancelledError:
            if work in stale:  # cancelled by a newer request or an edit, not by the client
                stale.discard(work)
                raise ContentModified("the document changed; this completion is stale") from None
            work.cancel()  # the client cancelled: close the model request too
            raise
        except NexusError as exc:
            log.warning("inline completion failed: %s", exc)
            raise failure(exc) from exc
        finally:
            if inflight.get(doc.uri) is work:
                del inflight[doc.uri]
        if suggestion is None:
            return types.InlineCompletionList(items=[])
        return types.InlineCompletionList(items=[types.InlineCompletionItem(
            insert_text=suggestion.text, range=types.Range(params.position, params.position))])


async def _suggest(ls: NexusServer, doc: LspDocument, pos: types.Position, explicit: bool) -> InlineSuggestion | None:
    assistant = state(ls).assistant()
    if not explicit and assistant.settings.inline_debounce_ms:
        await asyncio.sleep(assistant.settings.inline_debounce_ms / 1000)
    document, folder = engine_document(ls, doc)
    request = AssistRequest(Task.INLINE, document=document, cursor=point(doc, pos),
                            open_files=open_files(ls, folder, document.path))
    return await assistant.suggest(workspace_of(ls, folder), request)
