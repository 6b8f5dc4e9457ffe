"""Text document sync: open, incremental change, save, close. Unsaved text is what queries see.

The current document is always read from its live buffer; the index follows it (debounced) so that
searches and other files' references see unsaved edits too.
"""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types

from nexus.engine.errors import NexusError
from nexus.engine.languages import language_for
from nexus.engine.worker import content_hash

from ..documents import Document, path_of
from ..server import NexusServer

log = logging.getLogger(__name__)

INDEX_DELAY = 0.5  # seconds of quiet before an edited buffer is re-indexed


def register(server: NexusServer) -> None:
    pending: dict[str, asyncio.TimerHandle] = {}

    def schedule_index(ls: NexusServer, doc: Document, from_disk: bool = False) -> None:
        folder = ls.folder_of(doc)
        if folder is None or folder.ws is None or not doc.rel or language_for(doc.rel) is None or doc.virtual:
            return
        old = pending.pop(doc.uri, None)
        if old is not None:
            old.cancel()
        if not from_disk and doc.too_large:
            return  # the index keeps the version on disk (which it skips too when as large)
        text = None if from_disk else doc.text

        def fire() -> None:
            pending.pop(doc.uri, None)
            try:
                future = ls.background.submit(_update, folder.ws, doc.rel, text)
            except RuntimeError:  # shutting down: the next start indexes the file from disk
                return
            future.add_done_callback(lambda f: f.exception() and log.info("re-indexing %s: %s", doc.rel, f.exception()))

        assert ls.loop is not None
        pending[doc.uri] = ls.loop.call_later(INDEX_DELAY, fire)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: NexusServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        path = path_of(item.uri)
        folder = ls.folders.for_path(path)
        rel = ""
        if folder is not None and folder.ws is not None and path is not None:
            try:
                rel = folder.ws.relative(path)
            except NexusError:
                rel = ""
        doc = ls.documents.open(item, rel or (str(path) if path else item.uri))
        if folder is not None and folder.ws is not None:
            doc.max_bytes = folder.ws.index_settings.max_file_size
        if doc.too_large:
            message = (f"Nexus: {item.uri} is {doc.size / 1e6:.1f} MB, above the {doc.max_bytes / 1e6:.1f} MB "
                       "limit (index.max_file_size): it gets no outline, folding, syntax check, Python "
                       "semantics or indexing while it is this large")
            log.info("%s", message)
            ls.log_to_client(message, types.MessageType.Info)
        elif folder is not None and folder.ws is not None and rel and language_for(rel) is not None \
                and not doc.virtual:
            future = ls.background.submit(_update, folder.ws, rel, doc.text)
            future.add_done_callback(lambda f: f.exception() and log.info("indexing %s: %s", rel, f.exception()))
        backend = ls.backend_for(doc)
        if backend is not None and not doc.too_large:
            backend.opened(doc)  # warm it for this document: the first request after opening is fast
        ls.emit("opened", doc)

    def cancel_pending() -> None:
        for timer in list(pending.values()):
            timer.cancel()
        pending.clear()

    server.on("shutdown", lambda: ls_loop_call(server, cancel_pending))

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: NexusServer, params: types.DidChangeTextDocumentParams) -> None:
        doc = ls.documents.get(params.text_document.uri)
        if doc is None:
            log.info("change for %s, which is not open: ignored", params.text_document.uri)
            return
        for change in params.content_changes:
            doc.apply(change)
        doc.version = params.text_document.version
        schedule_index(ls, doc)
        ls.emit("changed", doc)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: NexusServer, params: types.DidSaveTextDocumentParams) -> None:
        doc = ls.documents.get(params.text_document.uri)
        if doc is None:
            return
        if params.text is not None and params.text != doc.text:
            doc.apply(types.TextDocumentContentChangeWholeDocument(text=params.text))
        schedule_index(ls, doc, from_disk=True)
        ls.disk_changed()
        ls.emit("saved", doc)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: NexusServer, params: types.DidCloseTextDocumentParams) -> None:
        doc = ls.documents.close(params.text_document.uri)
        if doc is None:
            return
        schedule_index(ls, doc, from_disk=True)  # the index forgets the unsaved text
        ls.emit("closed", doc)


def ls_loop_call(ls: NexusServer, fn) -> None:  # type: ignore[no-untyped-def]
    if ls.loop is not None and not ls.loop.is_closed():
        ls.loop.call_soon_threadsafe(fn)


def _update(ws, rel: str, text: str | None) -> None:  # type: ignore[no-untyped-def]
    """Index ``text`` (an open buffer) or the file on disk, unless the index already holds exactly that
    (a buffer opened unchanged, or edited back to what was indexed)."""
    if text is not None:
        info = ws.file_info(rel)
        if info is not None and info.content_hash == content_hash(text.encode("utf-8", "surrogateescape")):
            return
    ws.update_file(rel, text)
