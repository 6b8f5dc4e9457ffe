"""Turning engine locations (workspace-relative path, rows, byte columns) into LSP locations.

Columns need the text of the line they are on: an open document's live text, else the indexed text
of the file, else the file on disk. A ``Locator`` caches one LineMap per file for one request.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from nexus.engine.errors import NexusError
from nexus.engine.model import Span
from nexus.engine.paths import read_text_file
from nexus.engine.python_semantics import PyName

from .convert import LineMap
from .documents import Document
from .folders import Folder

if TYPE_CHECKING:
    from .server import NexusServer

log = logging.getLogger(__name__)


class Locator:
    def __init__(self, ls: NexusServer, folder: Folder | None, doc: Document) -> None:
        self.ls = ls
        self.folder = folder
        self.doc = doc
        self._maps: dict[str, LineMap | None] = {doc.rel: doc.lines}

    def absolute(self, path: str) -> Path:
        candidate = Path(path)
        if candidate.is_absolute() or self.folder is None:
            return candidate
        return self.folder.root / path

    def uri(self, path: str) -> str:
        if path == self.doc.rel:
            return self.doc.uri
        return self.absolute(path).as_uri()

    def lines(self, path: str) -> LineMap | None:
        if path in self._maps:
            return self._maps[path]
        found: LineMap | None = None
        absolute = self.absolute(path)
        open_doc = self.ls.documents.get(absolute.as_uri())
        if open_doc is not None:
            found = open_doc.lines
        else:
            text = None
            if self.folder is not None and self.folder.ws is not None and not Path(path).is_absolute():
                try:
                    text = self.folder.ws.text(path)
                except NexusError:
                    text = None
            if text is None:
                try:  # non-blocking, regular files only, size-capped: a FIFO must not hang the server
                    text = read_text_file(absolute)
                except NexusError as exc:
                    log.info("cannot read %s for positions: %s", absolute, exc)
            if text is not None:
                found = LineMap(text.encode("utf-8", "surrogatepass"), self.ls.documents.encoding)
        self._maps[path] = found
        return found

    def range(self, path: str, span: Span) -> types.Range:
        lines = self.lines(path)
        if lines is None:  # unreadable: byte columns are the best we have
            return types.Range(types.Position(span.start_line, span.start_col),
                               types.Position(span.end_line, span.end_col))
        return lines.range(span)

    def location(self, path: str, span: Span) -> types.Location:
        return types.Location(self.uri(path), self.range(path, span))


def py_location(ls: NexusServer, doc: Document, name: PyName) -> types.Location | None:
    """A jedi name as a location; its line text comes with it, so no file is read."""
    if name.path is None:
        return None
    path = Path(name.path)
    uri = doc.uri if doc.path is not None and path == doc.path else path.as_uri()
    if path == doc.path:
        lines = doc.lines
        return types.Location(uri, lines.range(Span(name.line, name.col, name.line, name.end_col)))
    line = LineMap(name.line_text.encode("utf-8", "surrogatepass"), ls.documents.encoding)
    start, end = line.position(0, name.col), line.position(0, name.end_col)
    return types.Location(uri, types.Range(types.Position(name.line, start.character),
                                           types.Position(name.line, end.character)))
