"""Grounding: what the model is shown about the workspace, within a token budget, and the receipt.

Two parts, both listed in the receipt:

- the **focus**, from the live buffer (unsaved edits included): the selection, the function or class
  around the cursor or the diagnostic, else a window of lines around the cursor. For edit tasks the
  focus is also the region the answer replaces.
- the **workspace context**, from the index through :func:`nexus.engine.context.build_context`:
  definitions of the names used at the cursor, ranked chunks for the question, small related files,
  the repo map. Pieces of the current file that overlap the focus are dropped (the index may hold an
  older version of those lines, and the model sees the live ones anyway).

Everything here is synchronous (LMDB, Tantivy, tree-sitter): async callers run it in a worker thread.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from nexus.engine.context import BudgetError, ContextError, ContextRequest, Piece, TokenCounter, build_context
from nexus.engine.errors import NexusError, NotFoundError
from nexus.engine.graph.facts import CALLER_KINDS
from nexus.engine.model import Symbol
from nexus.engine.source import SourceFile
from nexus.engine.workspace import Workspace

from .model import AssistantError, AssistRequest, Document, ReceiptEntry, Task

log = logging.getLogger(__name__)

CURSOR_WINDOW = 30  # lines either side of the cursor when no definition encloses it
MAX_DEFINITION_LINES = 200  # a longer enclosing definition is replaced by a window of lines
MIN_CONTEXT_TOKENS = 64  # below this, asking the index for context is not worth its time
FOCUS_SHARE = 0.6  # the focus may use this share of the budget; the index gets the rest and any slack
DOCUMENTED_KINDS = frozenset({"function", "method", "constructor", "class", "interface", "struct", "enum"})


@dataclass(frozen=True, slots=True)
class Focus:
    """The lines a request is about (zero-based, inclusive), as the live buffer has them."""

    path: str
    start_line: int
    end_line: int
    text: str
    kind: str  # selection, definition, cursor, diagnostic, file
    reason: str
    tokens: int = 0
    symbol: Symbol | None = None

    def entry(self) -> ReceiptEntry:
        return ReceiptEntry(self.path, self.start_line, self.end_line, self.kind, self.reason, self.tokens)


@dataclass(frozen=True, slots=True)
class Grounding:
    focus: Focus | None
    context_text: str  # rendered workspace pieces (<piece path=... lines=...>...</piece>)
    context_entries: tuple[ReceiptEntry, ...]
    tokens: int  # focus + context, as counted by the counter
    note: str = ""  # why there is no workspace context, when there is none
    pieces: tuple[Piece, ...] = ()  # the workspace pieces behind context_text

    @property
    def receipt(self) -> tuple[ReceiptEntry, ...]:
        head = (self.focus.entry(),) if self.focus is not None else ()
        return head + self.context_entries


def lines_of(text: str, start: int, end: int) -> str:
    """Rows ``start..end`` (inclusive) of ``text`` split at ``\\n``, with their line breaks."""
    rows = text.split("\n")
    return "\n".join(rows[start:end + 1]) + ("\n" if end + 1 < len(rows) else "")


def enclosing(source: SourceFile, line: int, kinds: frozenset[str] = CALLER_KINDS,
              max_lines: int = MAX_DEFINITION_LINES) -> Symbol | None:
    """The innermost definition of one of ``kinds`` containing ``line`` and at most ``max_lines`` long."""
    best: Symbol | None = None
    for symbol in source.symbols:
        span = symbol.span
        if symbol.kind in kinds and span.start_line <= line <= span.end_line \
                and span.end_line - span.start_line < max_lines:
            if best is None or span.end_line - span.start_line <= best.span.end_line - best.span.start_line:
                best = symbol
    return best


def find_focus(request: AssistRequest, counter: TokenCounter, limit: int) -> Focus | None:
    """The focus of ``request`` cut to ``limit`` tokens, or None without a document.

    Raises AssistantError when an edit task has nothing to work on (a docstring outside any definition).
    """
    doc = request.document
    if doc is None:
        return None
    source = SourceFile(doc.path, doc.text, doc.language)
    last_row = max(0, doc.text.count("\n") - (1 if doc.text.endswith("\n") else 0))
    focus: Focus
    if request.has_selection:
        assert request.selection is not None
        sel = request.selection
        end = sel.end_line - 1 if sel.end_col == 0 and sel.end_line > sel.start_line else sel.end_line
        focus = _focus(doc, sel.start_line, min(end, last_row), "selection", "the selected lines")
        if request.task is Task.DOCSTRING:
            # Documenting a selection means documenting the definition the selection starts in.
            found = enclosing(source, sel.start_line, DOCUMENTED_KINDS)
            if found is not None and found.span.start_line >= sel.start_line - 1:
                focus = _definition_focus(doc, found, "the definition to document")
    elif request.task is Task.FIX and request.diagnostic is not None:
        span = request.diagnostic.span
        found = enclosing(source, span.start_line)
        if found is not None and found.span.end_line >= span.end_line:
            focus = _definition_focus(doc, found, f"{found.kind} {found.qualified_name}, where the problem is")
        else:
            focus = _focus(doc, max(0, span.start_line - 3), min(last_row, span.end_line + 3), "diagnostic",
                           "the lines around the problem")
    else:
        line = request.cursor[0] if request.cursor is not None else 0
        kinds = DOCUMENTED_KINDS if request.task in (Task.DOCSTRING, Task.TESTS) else CALLER_KINDS
        found = enclosing(source, line, kinds)
        if found is not None:
            focus = _definition_focus(doc, found, f"{found.kind} {found.qualified_name} around the cursor")
        elif request.task is Task.DOCSTRING:
            raise AssistantError("put the cursor in a function or class (or select it) to add a docstring")
        elif request.task is Task.TESTS:
            focus = _focus(doc, 0, last_row, "file", "the current file")
        else:
            focus = _focus(doc, max(0, line - CURSOR_WINDOW), min(last_row, line + CURSOR_WINDOW), "cursor",
                           f"around the cursor at line {line + 1}")
    return _fit(focus, doc, counter, limit, request.cursor[0] if request.cursor else focus.start_line)


def _focus(doc: Document, start: int, end: int, kind: str, reason: str, symbol: Symbol | None = None) -> Focus:
    return Focus(doc.path, start, end, lines_of(doc.text, start, end), kind, reason, symbol=symbol)


def _definition_focus(doc: Document, symbol: Symbol, reason: str) -> Focus:
    return _focus(doc, symbol.span.start_line, symbol.span.end_line, "definition", reason, symbol)


def _fit(focus: Focus, doc: Document, counter: TokenCounter, limit: int, around: int) -> Focus:
    """Shrink ``focus`` around line ``around`` until it fits ``limit`` tokens; count its tokens."""
    start, end, text = focus.start_line, focus.end_line, focus.text
    tokens = counter.count(text)
    while tokens > limit and end > start:
        span = end - start
        around = min(max(around, start), end)
        start = max(start, around - span // 4)
        end = min(end, max(around, start) + span // 4)
        text = lines_of(doc.text, start, end)
        tokens = counter.count(text)
    if tokens > limit:
        raise AssistantError(f"line {start + 1} alone is longer than the context budget ({limit} tokens)")
    if (start, end) == (focus.start_line, focus.end_line):
        return Focus(focus.path, start, end, text, focus.kind, focus.reason, tokens, focus.symbol)
    return Focus(focus.path, start, end, text, focus.kind, focus.reason + " (cut to fit the budget)", tokens,
                 focus.symbol)


class ContextCache:
    """Workspace context by (workspace, file, cursor row, index version, budget): inline completion asks
    again at every pause in typing, usually on the same line, and the index part of its context only
    changes when the index does (the live text around the cursor is never cached). Thread-safe."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._items: OrderedDict[tuple[Any, ...], Grounding] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...]) -> Grounding | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: tuple[Any, ...], value: Grounding) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def ground(ws: Workspace | None, request: AssistRequest, budget: int, counter: TokenCounter,
           model: str | None = None, query: str | None = None, preset: Focus | None = None,
           cache: ContextCache | None = None) -> Grounding:
    """The focus and the workspace context for ``request``, together within ``budget`` tokens.

    ``query`` overrides the retrieval query (default: the question, else the names at the cursor);
    ``preset`` is a focus the caller already cut (inline completion's prefix and suffix); ``cache``
    keeps the workspace part of inline requests (see :class:`ContextCache`).
    Raises AssistantError (see :func:`find_focus`); a workspace that cannot give context (not indexed
    yet) is not an error: the grounding says why in ``note``.
    """
    focus = preset or find_focus(request, counter, max(1, int(budget * FOCUS_SHARE)))
    used = focus.tokens if focus is not None else 0
    remaining = budget - used
    if ws is None:
        return Grounding(focus, "", (), used, "no workspace folder holds this file")
    if remaining < MIN_CONTEXT_TOKENS:
        return Grounding(focus, "", (), used, "the budget is used up by the code in question")
    doc = request.document
    path = doc.path if doc is not None and doc.in_workspace else None
    line = request.cursor[0] if request.cursor is not None else (focus.start_line if focus else None)
    if path is None:
        line = None
    key: tuple[Any, ...] | None = None
    if cache is not None and request.task is Task.INLINE:
        key = (str(ws.root), path, line, ws.store.meta("updated_at"), remaining, model)
        cached = cache.get(key)
        if cached is not None:
            return Grounding(focus, cached.context_text, cached.context_entries, used + cached.tokens, cached.note,
                             cached.pieces)
    found = _workspace_context(ws, request, focus, path, line, remaining, counter, model, query)
    if key is not None and cache is not None:
        cache.put(key, found)
    return Grounding(focus, found.context_text, found.context_entries, used + found.tokens, found.note, found.pieces)


def _workspace_context(ws: Workspace, request: AssistRequest, focus: Focus | None, path: str | None,
                       line: int | None, remaining: int, counter: TokenCounter, model: str | None,
                       query: str | None) -> Grounding:
    """The workspace part alone, as a Grounding without a focus (``tokens`` counts only it)."""
    text = request.question if query is None else query
    if request.diagnostic is not None:
        text = f"{text} {request.diagnostic.message}".strip()
    wanted = ContextRequest(query=text, path=path, line=line, column=request.cursor[1] if request.cursor else 0,
                            open_files=tuple(p for p in request.open_files if p != path), budget=remaining,
                            model=model, repo_map=request.task is not Task.INLINE,
                            recent_files=tuple(p for p in request.changed_files if p != path))
    try:
        try:
            context = build_context(ws, wanted, counter=counter)
        except NotFoundError:
            # A new file the index has not seen yet: rank for the question without a current file.
            wanted = ContextRequest(query=text or (focus.text[:2000] if focus else ""), open_files=wanted.open_files,
                                    budget=remaining, model=model, repo_map=wanted.repo_map,
                                    recent_files=wanted.recent_files)
            context = build_context(ws, wanted, counter=counter)
    except (ContextError, BudgetError) as exc:
        log.info("no workspace context: %s", exc)
        return Grounding(None, "", (), 0, str(exc))
    except NexusError as exc:
        log.warning("workspace context failed: %s", exc)
        return Grounding(None, "", (), 0, str(exc))
    kept = []
    for piece in context.pieces:
        if focus is not None and piece.path == focus.path and request.task is Task.INLINE:
            continue  # the prefix and suffix are the live version of this file
        if focus is not None and piece.path == focus.path and piece.start_line <= focus.end_line \
                and piece.end_line >= focus.start_line:
            continue
        kept.append(piece)
    entries = tuple(ReceiptEntry(p.path, p.start_line, p.end_line, p.kind, p.reason, p.tokens) for p in kept)
    return Grounding(None, "".join(p.render() for p in kept), entries, sum(p.tokens for p in kept),
                     pieces=tuple(kept))


def edit_region(focus: Focus) -> tuple[int, int]:
    """The rows an edit answer replaces: the focus lines."""
    return focus.start_line, focus.end_line


def require_focus(grounding: Grounding, task: Task) -> Focus:
    if grounding.focus is None:
        raise AssistantError(f"{task.label} needs a document: open a file and select code or put the cursor in it")
    return grounding.focus
