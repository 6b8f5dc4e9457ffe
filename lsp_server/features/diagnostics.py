"""Diagnostics: tree-sitter syntax errors for every language, ruff for Python; debounced per document,
computed off the loop, and dropped when the document changed meanwhile."""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types

from nexus.engine.diagnostics import syntax_errors
from nexus.engine.errors import NexusError
from nexus.engine.lint import lint_python

from ..convert import diagnostic
from ..documents import Document
from ..server import NexusServer

log = logging.getLogger(__name__)

DELAY = 0.2
MAX_LINT_BYTES = 2_000_000


def register(server: NexusServer) -> None:
    timers: dict[str, asyncio.TimerHandle] = {}
    ruff_broken: list[str] = []

    def compute(ls: NexusServer, doc: Document, version: int, text: str) -> list[types.Diagnostic] | None:
        source = doc.source
        if source.text is not text:
            return None  # changed since scheduling
        problems = syntax_errors(source)
        if doc.language == "python" and doc.path is not None and len(text) <= MAX_LINT_BYTES \
                and ls.options.ruff and not ruff_broken:
            folder = ls.folder_of(doc)
            root = folder.root if folder is not None else doc.path.parent
            try:
                problems += lint_python(root, str(doc.path), text)
            except NexusError as exc:
                ruff_broken.append(str(exc))
                log.error("ruff diagnostics off: %s", exc)
                ls.log_to_client(f"Nexus: ruff diagnostics are off: {exc}", types.MessageType.Warning)
        lines = doc.lines
        return [diagnostic(lines, p) for p in problems]

    async def publish(ls: NexusServer, doc: Document) -> None:
        version, text = doc.version, doc.text
        found = await ls.offload(compute, ls, doc, version, text, background=True)
        current = ls.documents.get(doc.uri)
        if found is None or current is not doc or doc.version != version:
            log.debug("diagnostics for %s v%s dropped: outdated", doc.uri, version)
            return
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(doc.uri, found, version=version))

    def schedule(doc: Document) -> None:
        old = timers.pop(doc.uri, None)
        if old is not None:
            old.cancel()
        loop = server.loop
        if loop is None:
            return

        def fire() -> None:
            timers.pop(doc.uri, None)
            task = loop.create_task(publish(server, doc))
            task.add_done_callback(_log_failure)

        timers[doc.uri] = loop.call_later(DELAY, fire)

    def clear(doc: Document) -> None:
        old = timers.pop(doc.uri, None)
        if old is not None:
            old.cancel()
        server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(doc.uri, []))

    server.on("opened", schedule)
    server.on("changed", schedule)
    server.on("saved", schedule)
    server.on("closed", clear)


def _log_failure(task: asyncio.Task) -> None:  # type: ignore[type-arg]
    if not task.cancelled() and task.exception() is not None:
        log.error("diagnostics failed", exc_info=task.exception())
