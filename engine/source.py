"""One version of one file's text, with what the editor-facing features derive from it.

Editor features work on the live buffer (unsaved text included), not on the index: a ``SourceFile`` is
built per document version and parses lazily, once, whichever feature asks first. Positions are
tree-sitter's: rows split at ``\\n`` only and byte columns in the line's UTF-8 encoding; adapters
convert to their protocol's units.
"""

from __future__ import annotations

import threading
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar

import tree_sitter as ts

from .languages import language_for, parser
from .model import Span, Symbol
from .parsing import Extraction, extract, parse
from .parsing.chunks import line_starts_of

# Above this size a buffer is not parsed: every tree-based feature answers empty rather than stall.
MAX_PARSE_BYTES = 8_000_000
T = TypeVar("T")
_NAME_MASK = (1 << 31) - 1  # the reference's name index, without the call bit


class SourceFile:
    """Text of a file at one version. Thread-safe: the lazy parse runs at most once."""

    def __init__(self, path: str, text: str, language: str | None = None, version: int | None = None,
                 old_tree: ts.Tree | None = None, max_parse_bytes: int = MAX_PARSE_BYTES) -> None:
        """``old_tree``: the previous version's tree with this version's edits applied (``Tree.edit``);
        tree-sitter then re-parses only what changed. Above ``max_parse_bytes`` there is no tree (and
        so no symbols, folds or syntax errors): the language server passes the index's size limit."""
        self.path = path
        self.max_parse_bytes = max_parse_bytes
        self.language = language if language is not None else language_for(path)
        self.text = text
        self.version = version
        self._old_tree = old_tree
        self._lock = threading.Lock()
        self._memo: dict[str, Any] = {}

    def memo(self, key: str, build: Callable[[], T]) -> T:
        """A value derived from this version of the text, built once and kept with it (requests at one
        version share it). Two threads may both build it; either result is the same."""
        try:
            return self._memo[key]  # type: ignore[no-any-return]
        except KeyError:
            value = self._memo[key] = build()
            return value

    @cached_property
    def data(self) -> bytes:
        return self.text.encode("utf-8", "surrogatepass")

    @cached_property
    def line_starts(self) -> list[int]:
        """Byte offset where each row starts (rows end at ``\\n``, as tree-sitter counts them)."""
        return line_starts_of(self.data)

    @property
    def parseable(self) -> bool:
        return self.language not in (None, "notebook") and len(self.data) <= self.max_parse_bytes

    @property
    def tree(self) -> ts.Tree | None:
        """The syntax tree, or None for a file Nexus has no grammar for (or too large to parse)."""
        if not self.parseable:
            return None
        with self._lock:
            found = self.__dict__.get("_tree")
            if found is None:
                assert self.language is not None
                if self._old_tree is not None:
                    found = parser(self.language).parse(self.data, self._old_tree)
                else:
                    found = parse(self.language, self.data)
                self.__dict__["_tree"] = found
                self._old_tree = None
            return found

    def edit_base(self) -> ts.Tree | None:
        """A private copy of the tree the next version can be parsed from: this version's tree once
        parsed, else the edited tree it would have been parsed from; None without either."""
        with self._lock:
            found = self.__dict__.get("_tree") or self._old_tree
            return found.copy() if found is not None else None

    @property
    def extraction(self) -> Extraction | None:
        tree = self.tree
        if tree is None:
            return None
        with self._lock:
            found = self.__dict__.get("_extraction")
            if found is None:
                assert self.language is not None
                found = self.__dict__["_extraction"] = extract(self.language, self.data, tree)
            return found

    @property
    def symbols(self) -> list[Symbol]:
        extraction = self.extraction
        if extraction is None:
            return []
        return self.memo("symbols", lambda: [to_symbol(raw) for raw in extraction.symbols])

    # -- identifier occurrences (the extraction's references), indexed once per version ---------

    def refs_named(self, name: str) -> list[tuple[int, int]]:
        """Byte ranges of every identifier spelled ``name``, in file order."""
        extraction = self.extraction
        if extraction is None:
            return []
        by_name = self.memo("refs_by_name", lambda: _refs_by_name(extraction.ref_names, extraction.refs))
        return by_name.get(name, [])

    def refs_between(self, start: int, end: int) -> list[tuple[str, int, int]]:
        """(name, start, end) of the identifiers starting in the byte range [start, end), in file order."""
        extraction = self.extraction
        if extraction is None:
            return []
        refs, names = extraction.refs, extraction.ref_names
        starts, order = self.memo("ref_starts", lambda: _ref_order(refs))
        out = []
        for k in range(bisect_left(starts, start), bisect_left(starts, end)):
            i = 3 * (order[k] if order is not None else k)
            out.append((names[refs[i] & _NAME_MASK], refs[i + 1], refs[i + 2]))
        return out

    # -- positions -------------------------------------------------------------------------------

    def offset(self, line: int, col: int) -> int:
        """Byte offset of (row, byte column), clamped into the text."""
        starts = self.line_starts
        if line < 0:
            return 0
        if line >= len(starts):
            return len(self.data)
        end = starts[line + 1] - 1 if line + 1 < len(starts) else len(self.data)
        return min(starts[line] + max(col, 0), end)

    def point(self, offset: int) -> tuple[int, int]:
        """(row, byte column) of a byte offset."""
        offset = max(0, min(offset, len(self.data)))
        row = bisect_right(self.line_starts, offset) - 1
        return row, offset - self.line_starts[row]

    def line_text(self, line: int) -> str:
        starts = self.line_starts
        if not 0 <= line < len(starts):
            return ""
        end = starts[line + 1] - 1 if line + 1 < len(starts) else len(self.data)
        return self.data[starts[line]:end].decode("utf-8", "replace")

    def span_of(self, node: ts.Node) -> Span:
        return Span(node.start_point[0], node.start_point[1], node.end_point[0], node.end_point[1])

    def node_text(self, node: ts.Node) -> str:
        return self.data[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def node_at(self, line: int, col: int, named: bool = True) -> ts.Node | None:
        """The smallest (named) node covering the position, or None without a tree."""
        tree = self.tree
        if tree is None:
            return None
        offset = self.offset(line, col)
        root = tree.root_node
        if named:
            return root.named_descendant_for_byte_range(offset, offset)
        return root.descendant_for_byte_range(offset, offset)

    def word_at(self, line: int, col: int) -> tuple[int, int] | None:
        """Byte offsets of the identifier touching the position (cursor before, inside or after it)."""
        data = self.data
        offset = self.offset(line, col)
        start = offset
        while start > 0 and _is_word_byte(data[start - 1]):
            start -= 1
        end = offset
        while end < len(data) and _is_word_byte(data[end]):
            end += 1
        if start == end or data[start:start + 1].isdigit():
            return None
        return start, end


def _is_word_byte(byte: int) -> bool:
    # ASCII letters, digits, '_', '$' (JavaScript) and any non-ASCII byte (identifiers like `größe`).
    return byte >= 0x80 or byte == 0x5F or byte == 0x24 or 0x30 <= byte <= 0x39 or 0x41 <= byte <= 0x5A \
        or 0x61 <= byte <= 0x7A


def _refs_by_name(names: list[str], refs: array[int]) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    starts, ends = refs[1::3], refs[2::3]
    for k, index in enumerate(refs[0::3]):
        name = names[index & _NAME_MASK]
        found = out.get(name)
        if found is None:
            found = out[name] = []
        found.append((starts[k], ends[k]))
    return out


def _ref_order(refs: array[int]) -> tuple[array[int], list[int] | None]:
    """Start offsets sorted, and the order of the triples that sorts them (None: already in order)."""
    starts = refs[1::3]
    if all(a <= b for a, b in zip(starts, starts[1:], strict=False)):
        return starts, None
    order = sorted(range(len(starts)), key=starts.__getitem__)
    return array("I", (starts[k] for k in order)), order


def to_symbol(raw: tuple) -> Symbol:  # type: ignore[type-arg]
    (name, kind, container, sl, sc, el, ec, nsl, nsc, nel, nec, start_byte, end_byte, signature, doc,
     depth) = raw
    return Symbol(name, kind, container, Span(sl, sc, el, ec), Span(nsl, nsc, nel, nec), signature, doc, depth,
                  start_byte, end_byte)
