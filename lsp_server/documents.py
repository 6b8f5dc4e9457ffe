"""Open documents: the editor's unsaved text, kept in sync by incremental changes.

pygls' own document store splits lines with ``str.splitlines`` (which also breaks at form feeds and
U+2028) and converts positions differently from our engine, so the server keeps its own: bytes and a
:class:`LineMap` per version, and a parsed :class:`SourceFile` built lazily by whichever feature
needs it first.
"""

from __future__ import annotations

import logging
import os
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import tree_sitter as ts
from lsprotocol import types

from nexus.engine.errors import BadPathError, NexusError
from nexus.engine.languages import find_lsp_id, language_for
from nexus.engine.paths import encode_path, read_text_file, read_text_inside
from nexus.engine.settings import IndexSettings
from nexus.engine.source import SourceFile

from .convert import LineMap

log = logging.getLogger(__name__)

MAX_DISK_DOCUMENT = 20_000_000  # bytes: a file the client did not open is read from disk up to this
DEFAULT_MAX_BYTES = IndexSettings().max_file_size


class DocumentError(NexusError):
    """A request names a document that is not open or cannot be read."""


def path_of(uri: str) -> Path | None:
    """The file-system path of a ``file:`` URI, or None for other schemes and for a ``file:`` URI no
    file can have (``%00``, a lone surrogate): such a document is served as an untitled buffer."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = unquote(parsed.path)
    if bad_path_reason(path) is not None:
        return None
    return Path(path)


def bad_path_reason(path: str) -> str | None:
    """Why ``path`` cannot name a file, or None when it can."""
    try:
        encode_path(path)
    except BadPathError as exc:
        return str(exc)
    return None


def bad_file_uri(uri: str) -> str | None:
    """For a ``file:`` URI that names no possible file: a message saying why; otherwise None."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    reason = bad_path_reason(unquote(parsed.path))
    return f"{ascii(uri)} is not a usable file URI: {reason}" if reason else None


@dataclass(slots=True)
class Document:
    uri: str
    path: Path | None
    version: int
    text: str
    language: str | None
    encoding: str
    _lines: LineMap | None = field(default=None, repr=False)
    _source: SourceFile | None = field(default=None, repr=False)
    rel: str = ""  # workspace-relative path when inside a folder, else the absolute path
    _edited: ts.Tree | None = field(default=None, repr=False)  # the last tree, with the edits since applied
    folder: tuple[int, object] | None = field(default=None, repr=False)  # (folders generation, its Folder)
    # Above this many bytes the document gets no parse, no jedi and no indexing (the index's own
    # max_file_size, set when it is opened in a folder): a 20 MB buffer must not cost gigabytes.
    max_bytes: int = DEFAULT_MAX_BYTES

    @property
    def size(self) -> int:
        """Bytes of the text in UTF-8."""
        return len(self.lines.data)

    @property
    def too_large(self) -> bool:
        return self.size > self.max_bytes

    @property
    def lines(self) -> LineMap:
        if self._lines is None:
            self._lines = LineMap(self.text.encode("utf-8", "surrogatepass"), self.encoding)
        return self._lines

    @property
    def source(self) -> SourceFile:
        if self._source is None:
            self._source = SourceFile(self.rel or str(self.path or self.uri), self.text, self.language, self.version,
                                      old_tree=self._edited, max_parse_bytes=self.max_bytes)
            self._edited = None
        return self._source

    def apply(self, change: types.TextDocumentContentChangeEvent) -> None:
        """Apply one change; the previous syntax tree is edited along, so the next parse is incremental."""
        if isinstance(change, types.TextDocumentContentChangePartial):
            lines = self.lines
            start, end = lines.offset(change.range.start), lines.offset(change.range.end)
            if end < start:
                start, end = end, start
            inserted = change.text.encode("utf-8", "surrogatepass")
            tree = self._source.edit_base() if self._source is not None else self._edited
            if tree is not None:
                tree.edit(start, end, start + len(inserted), _point(lines, start), _point(lines, end),
                          _point_after(_point(lines, start), inserted))
            data = lines.data[:start] + inserted + lines.data[end:]
            self.text = data.decode("utf-8", "surrogatepass")
            self._lines = LineMap(data, self.encoding)
            self._edited = tree
        else:
            self.text = change.text
            self._lines = None
            self._edited = None
        self._source = None


class Documents:
    def __init__(self) -> None:
        self._docs: dict[str, Document] = {}
        self.encoding = "utf-16"

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(self._docs.values()))

    def open(self, item: types.TextDocumentItem, rel: str) -> Document:
        path = path_of(item.uri)
        language = language_for(path.name) if path is not None else None
        if language is None:
            found = find_lsp_id(item.language_id)  # an untitled buffer: its editor's language id
            language = found.name if found is not None else None
        doc = Document(item.uri, path, item.version, item.text, language, self.encoding, rel=rel)
        self._docs[_key(item.uri)] = doc
        return doc

    def get(self, uri: str) -> Document | None:
        return self._docs.get(_key(uri))

    def close(self, uri: str) -> Document | None:
        return self._docs.pop(_key(uri), None)

    def require(self, uri: str, root: Path | None = None) -> Document:
        """The open document, or the file on disk when the client asks about one it did not open.

        A file inside ``root`` (its workspace folder) is read beneath the folder's descriptor, so a
        symlink swapped in meanwhile cannot lead out of it; a FIFO or device is refused, not waited on.
        Raises DocumentError when it is neither open nor a readable text file.
        """
        doc = self.get(uri)
        if doc is not None:
            return doc
        path = path_of(uri)
        if path is None:
            raise DocumentError(bad_file_uri(uri) or f"{uri} is not open and not a file")
        try:
            parent = Path(os.path.realpath(path.parent))  # only names the file; the read is beneath root
            if root is not None and parent.is_relative_to(root):
                _, text = read_text_inside(root, parent.relative_to(root) / path.name, MAX_DISK_DOCUMENT)
            else:
                text = read_text_file(path, MAX_DISK_DOCUMENT)
        except NexusError as exc:
            raise DocumentError(f"{uri} is not open and cannot be read: {exc}") from exc
        language = language_for(path.name)
        return Document(uri, path, 0, text, language, self.encoding, rel=str(path))


def _point(lines: LineMap, offset: int) -> tuple[int, int]:
    row = bisect_right(lines.rows, offset) - 1
    return row, offset - lines.rows[row]


def _point_after(start: tuple[int, int], inserted: bytes) -> tuple[int, int]:
    newlines = inserted.count(b"\n")
    if not newlines:
        return start[0], start[1] + len(inserted)
    return start[0] + newlines, len(inserted) - inserted.rfind(b"\n") - 1


def _key(uri: str) -> str:
    path = path_of(uri)
    return os.path.normpath(str(path)) if path is not None else uri
