"""Open documents: the editor's unsaved text, kept in sync by incremental changes.

pygls' own document store splits lines with ``str.splitlines`` (which also breaks at form feeds and
U+2028) and converts positions differently from our engine, so the server keeps its own: bytes and a
:class:`LineMap` per version, and a parsed :class:`SourceFile` built lazily by whichever feature
needs it first.

JupyterLab's LSP client (jupyterlab-lsp, ``@jupyterlab/lsp``) does not send notebooks as notebooks: it
sends a *virtual document* per notebook, the code cells joined as one text in the kernel's language,
named after the notebook under ``<root>/.virtual_documents/`` (``analysis.ipynb``, and for cells in
another language ``analysis.ipynb.<id>.<ext>``), and when a notebook is the first document it opens,
``<root>/.virtual_documents`` is the rootUri. :func:`path_of` maps those names back to the files they
stand for, so folders, jedi and the index see the real workspace; :func:`virtual_of` tells a document
that is such a copy (its language is the text's, not the notebook container's, and its text is never
indexed in place of the notebook on disk).
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
from nexus.engine.languages import find, find_lsp_id, for_path, language_for
from nexus.engine.paths import encode_path, read_text_file, read_text_inside
from nexus.engine.settings import IndexSettings
from nexus.engine.source import SourceFile

from .convert import LineMap

log = logging.getLogger(__name__)

MAX_DISK_DOCUMENT = 20_000_000  # bytes: a file the client did not open is read from disk up to this
DEFAULT_MAX_BYTES = IndexSettings().max_file_size


class DocumentError(NexusError):
    """A request names a document that is not open or cannot be read."""


VIRTUAL_DIR = ".virtual_documents"  # jupyter-lsp's shadow folder under the server's root_dir


@dataclass(frozen=True, slots=True)
class Virtual:
    """What a virtual document stands for: the real file (a notebook, or a file the client mirrors) and
    the language of the text the client sends, known from its name (None: ask the client's language id)."""

    real: Path
    language: str | None


def path_of(uri: str) -> Path | None:
    """The file-system path of a ``file:`` URI, or None for other schemes and for a ``file:`` URI no
    file can have (``%00``, a lone surrogate: such a document is served as an untitled buffer). A
    jupyter-lsp virtual document gives the path of the file it stands for, and
    ``<root>/.virtual_documents`` gives ``<root>``."""
    raw = _raw_path(uri)
    if raw is None:
        return None
    virtual = _virtual(raw)
    return virtual.real if virtual is not None else raw


def virtual_of(uri: str) -> Virtual | None:
    """The file a jupyter-lsp virtual document stands for, or None for an ordinary URI."""
    raw = _raw_path(uri)
    return _virtual(raw) if raw is not None else None


def _raw_path(uri: str) -> Path | None:
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


def _virtual(raw: Path) -> Virtual | None:
    parts = raw.parts
    if VIRTUAL_DIR not in parts:
        return None
    at = len(parts) - 1 - parts[::-1].index(VIRTUAL_DIR)  # the innermost one is the shadow folder
    root, rest = Path(*parts[:at]), parts[at + 1:]
    if not rest:
        return Virtual(root, None)  # the folder itself: a rootUri
    name = rest[-1]
    lower = name.lower()
    marker = lower.rfind(".ipynb")
    if marker >= 0 and lower.endswith(".ipynb"):
        # The notebook's own document: the cells' text, in the language the client names.
        return Virtual(root.joinpath(*rest), None)
    if marker >= 0 and lower[marker + len(".ipynb")] == ".":
        # A foreign document (``analysis.ipynb.python-1.py``, ``analysis.ipynb.ipynb.py`` of older clients):
        # its extension says its language, and it stands for the notebook it came from.
        notebook = name[:marker + len(".ipynb")]
        return Virtual(root.joinpath(*rest[:-1], notebook), _suffix_language(name))
    return Virtual(root.joinpath(*rest), _suffix_language(name))  # a mirrored file: ``src/app.py``


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

    virtual: bool = False  # a jupyter-lsp virtual document: its text is not the file on disk (never indexed)

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
        virtual = virtual_of(item.uri)
        language = virtual.language if virtual is not None else language_for(path.name) if path is not None else None
        # A client sending a notebook's cells under the notebook's name (jupyterlab-lsp with in-memory
        # documents) sends code, not the notebook's JSON: the text is not the file on disk.
        cells = language == "notebook"
        if language is None or cells:
            # An untitled buffer or a notebook's cells: the editor's language id says what the text is.
            found = find_lsp_id(item.language_id) or find(item.language_id)  # "c++" from a kernelspec
            language = found.name if found is not None else None
        doc = Document(item.uri, path, item.version, item.text, language, self.encoding, rel=rel,
                       virtual=virtual is not None or cells)
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
        if virtual_of(uri) is not None:
            raise DocumentError(f"{uri} is a virtual document that is not open: open it first")
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


def _suffix_language(name: str) -> str | None:
    found = for_path(name)
    return found.name if found is not None else None


def _key(uri: str) -> str:
    path = _raw_path(uri)  # a virtual document and the file it stands for are two documents
    return os.path.normpath(str(path)) if path is not None else uri
