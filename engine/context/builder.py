"""Building a context: a request in, an ordered, deduplicated set of pieces filling a token budget out.

Pieces are *chosen* by priority, each taken while it fits:

1. the cursor's surroundings (the innermost definition around the cursor, else a window of lines);
2. definitions the cursor's code uses (resolved through the code graph);
3. ranked chunks (hybrid retrieval, see ``retrieval``);
4. whole small files among the best-ranked files;
5. for large budgets, further whole files in personalised-PageRank order;
6. the repo map, in a reserved share of the budget plus whatever is left.

Pieces are then *ordered* by stability class (whole files, definitions, repo map, chunks, cursor) and
by path and line within a class, not by score: two requests about the same code then share a long
prefix, which is what provider prompt caches key on. Overlaps are removed: a piece is trimmed to the
lines no earlier piece covers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import NotFoundError
from ..graph.facts import CALLER_KINDS, LOCAL_NAMES
from ..graph.queries import CodeGraph
from ..graph.repomap import build_repo_map
from ..parsing.chunks import line_starts_of
from ..retrieval import RetrievalQuery, Retriever
from .model import STABILITY, Context, ContextError, ContextRequest, Piece, check_budget
from .tokens import TokenCounter, counter_for

if TYPE_CHECKING:
    from ..workspace import Workspace

log = logging.getLogger(__name__)

CURSOR_WINDOW = 30  # lines either side of the cursor when no definition encloses it
MAX_CURSOR_LINES = 200
MAX_DEFINITION_LINES = 150
MAX_USED_NAMES = 40
SMALL_FILE_TOKENS = 2_000
REPO_MAP_SHARE = 0.1
REPO_MAP_CAP = 8_192
PIECE_SLACK = 2
MAX_BYTES_PER_TOKEN = 12  # code averages ~4.2 bytes per o200k token; more than 12 is rare  # header/body boundary of a piece whose body count came from the cache


class _Source:
    """One file's text in the snapshot; line offsets are computed only when a line range is asked for."""

    __slots__ = ("_starts", "file_id", "line_count", "path", "text")

    def __init__(self, path: str, file_id: int, text: bytes) -> None:
        self.path = path
        self.file_id = file_id
        self.text = text
        # Lines as tree-sitter counts them: a trailing newline does not start another line.
        self.line_count = text.count(b"\n") + 1
        self._starts: list[int] | None = None

    @property
    def line_starts(self) -> list[int]:
        if self._starts is None:
            self._starts = line_starts_of(self.text)
        return self._starts

    def whole(self) -> str:
        return self.text.decode("utf-8", "replace")

    def lines(self, start: int, end: int) -> str:
        end = min(end, self.line_count - 1)
        if start <= 0 and end >= self.line_count - 1:
            return self.whole()
        starts = self.line_starts
        stop = starts[end + 1] if end + 1 < self.line_count else len(self.text)
        return self.text[starts[start]:stop].decode("utf-8", "replace")


@dataclass(slots=True)
class _Coverage:
    """Lines already in the context, per file (sorted, non-overlapping inclusive ranges)."""

    ranges: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def uncovered(self, path: str, start: int, end: int) -> list[tuple[int, int]]:
        out = []
        cursor = start
        for a, b in self.ranges.get(path, []):
            if b < cursor:
                continue
            if a > end:
                break
            if a > cursor:
                out.append((cursor, a - 1))
            cursor = max(cursor, b + 1)
        if cursor <= end:
            out.append((cursor, end))
        return out

    def add(self, path: str, start: int, end: int) -> None:
        merged = sorted([*self.ranges.get(path, []), (start, end)])
        out: list[tuple[int, int]] = []
        for a, b in merged:
            if out and a <= out[-1][1] + 1:
                out[-1] = (out[-1][0], max(out[-1][1], b))
            else:
                out.append((a, b))
        self.ranges[path] = out


def build_context(ws: Workspace, request: ContextRequest, *, counter: TokenCounter | None = None,
                  graph: CodeGraph | None = None, weights: dict[str, float] | None = None) -> Context:
    """Build the context for ``request`` from ``ws``'s index.

    Raises BudgetError for a budget outside 1..1,000,000, ContextError when the workspace is not
    indexed, NotFoundError when the request's file is not in the index. Reads a committed snapshot,
    so a request during re-indexing sees the previous state, never a half-written one.
    """
    check_budget(request.budget)
    if ws.store.meta("updated_at") is None:
        raise ContextError(f"{ws.root} is not indexed yet: run `nexus index {ws.root}` first")
    return _Builder(ws, request, counter or counter_for(request.model), graph or CodeGraph(ws), weights).run()


class _Builder:
    def __init__(self, ws: Workspace, request: ContextRequest, counter: TokenCounter, graph: CodeGraph,
                 weights: dict[str, float] | None) -> None:
        self.ws = ws
        self.request = request
        self.counter = counter
        self.graph = graph
        self.retriever = Retriever(ws, graph, weights)
        self.pieces: list[Piece] = []
        self.coverage = _Coverage()
        self.sources: dict[str, _Source | None] = {}
        self.used = 0
        self.budget = request.budget
        self.new_counts: dict[str, tuple[int, int]] = {}
        self.sizes: dict[str, int] = {}

    # -- the run ---------------------------------------------------------------------------------

    def run(self) -> Context:
        request = self.request
        self.graph.sync()
        self.sizes = {info.path: info.size for info in self.ws.files()}
        current = self.ws.relative(request.path) if request.path else None
        if current is not None and self._source(current) is None:
            raise NotFoundError(f"{request.path} is not in the index")
        map_share = 0
        if request.repo_map:
            map_share = min(int(self.budget * REPO_MAP_SHARE), REPO_MAP_CAP)
        self.budget -= map_share

        names: list[str] = []
        if current is not None:
            names = self._cursor(current)
            self._definitions(current, names)
        text = request.query.strip() or " ".join(names[:20])
        query = RetrievalQuery(text, current, request.open_files, request.recent_files, request.use_mtime)
        signals = self.retriever.signals(query)
        chunk_limit = max(20, min(400, request.budget // 300))
        for chunk in self.retriever.rank_chunks(query, chunk_limit, signals):
            self._add_range(chunk.path, chunk.start_line, chunk.end_line, "chunk",
                            _chunk_reason(chunk.ranks, chunk.symbol), chunk.score)
        files = self.retriever.rank_files(query, limit=200, signals=signals)
        explicit = {self.ws.relative(p) for p in (*request.open_files, *request.recent_files)}
        # Small files need evidence: a query match, a symbol defined or used, or the editor having them open.
        evidence = [f for f in files if {"bm25", "symbols", "uses"} & f.ranks.keys() or f.path in explicit]
        self._small_files([f.path for f in evidence], {f.path: f.score for f in evidence})
        seeds = self._seeds(current, signals.rankings)
        ranked = self.graph.file_graph().ranked(seeds)
        if self.used < self.budget:
            self._ranked_files(ranked)
        self.budget += map_share
        if request.repo_map:
            self._repo_map(seeds, ranked)
        self._remember_counts()
        ordered = sorted(self.pieces, key=lambda p: (STABILITY[p.kind], p.path, p.start_line))
        return Context(tuple(ordered), request.budget, sum(p.tokens for p in ordered), self.counter.name,
                       self.counter.exact, request)

    # -- tiers -----------------------------------------------------------------------------------

    def _cursor(self, path: str) -> list[str]:
        """Add the cursor's surroundings; returns the names used there (for definitions and retrieval)."""
        source = self._source(path)
        assert source is not None
        line = self.request.line
        if line is None:
            start, end, reason = 0, source.line_count - 1, "the current file"
        else:
            line = max(0, min(line, source.line_count - 1))
            start, end = max(0, line - CURSOR_WINDOW), min(source.line_count - 1, line + CURSOR_WINDOW)
            reason = f"around the cursor at line {line + 1}"
            for symbol in self.ws.symbols(path):
                span = symbol.span
                if symbol.kind in CALLER_KINDS and span.start_line <= line <= span.end_line \
                        and span.end_line - span.start_line < MAX_CURSOR_LINES:
                    start, end = span.start_line, span.end_line  # innermost wins: symbols come outer first
                    reason = f"{symbol.kind} {symbol.qualified_name} around the cursor at line {line + 1}"
        start, end = self._fit_window(source, start, end, line if line is not None else 0)
        if start <= end:
            self._add_range(path, start, end, "cursor", reason, 1.0)
        used: list[str] = []
        for ref in self.ws.references_in(path):
            if start <= ref.line <= end:
                used.append(ref.name)
        return list(dict.fromkeys(used))

    def _fit_window(self, source: _Source, start: int, end: int, focus: int) -> tuple[int, int]:
        """Shrink [start, end] around ``focus`` until it fits half the budget."""
        limit = max(1, self.budget // 2)
        while end >= start and self.counter.count(source.lines(start, end)) > limit:
            if end - start <= 1:
                return start, start - 1
            span = end - start
            start = max(start, focus - span // 4)
            end = min(end, max(focus, start) + span // 4)
        return start, end

    def _definitions(self, path: str, names: list[str]) -> None:
        imported = {e.target for e in self.graph.imports(path) if e.target}
        wanted = [n for n in names if len(n) > 2 and n not in LOCAL_NAMES]
        for name in wanted[:MAX_USED_NAMES]:
            targets, _ambiguous = self.graph.resolve(name, path, imported)
            for definition in targets[:3]:
                span = definition.symbol.span
                end = min(span.end_line, span.start_line + MAX_DEFINITION_LINES - 1)
                self._add_range(definition.path, span.start_line, end, "definition",
                                f"definition of {definition.symbol.qualified_name}, used at the cursor", 0.9)

    def _small_files(self, ranked: list[str], scores: dict[str, float]) -> None:
        for path in ranked:
            if self.used >= self.budget:
                return
            count = self._file_tokens(path)
            if count is not None and count <= SMALL_FILE_TOKENS:
                self._add_file(path, "file", "small file among the best-ranked files", scores.get(path, 0.0))

    def _ranked_files(self, ranked: list[tuple[str, float]]) -> None:
        misses = 0
        for path, score in ranked:
            if self.budget - self.used < 50 or misses > 200:
                return
            if not self._add_file(path, "file", "ranked by the code graph for this request", score):
                misses += 1

    def _repo_map(self, seeds: dict[str, float], ranked: list[tuple[str, float]]) -> None:
        remaining = self.budget - self.used - 8  # the <repomap> tags
        if remaining < 50:
            return
        whole = {p.path for p in self.pieces if p.kind == "file"}
        found = build_repo_map(self.ws, self.graph, seeds, remaining, self.counter.count, whole, ranked)
        if not found.text:
            return
        piece = Piece("", 0, found.text.count("\n") - 1, "repomap",
                      f"signatures of the {len(found.files)} highest-ranked files", 0.0, found.text)
        tokens = self.counter.count(piece.render())
        if self.used + tokens <= self.budget:
            self._take(piece, tokens)

    # -- adding pieces ---------------------------------------------------------------------------

    def _add_file(self, path: str, kind: str, reason: str, score: float) -> bool:
        if self.sizes.get(path, 0) / MAX_BYTES_PER_TOKEN > self.budget - self.used:
            return False  # cannot fit: known without reading or counting it
        source = self._source(path)
        if source is None or not source.text.strip():
            return False
        gaps = self.coverage.uncovered(path, 0, source.line_count - 1)
        if gaps == [(0, source.line_count - 1)]:
            count = self._file_tokens(path)
            if count is None:
                return False
            piece = Piece(path, 0, source.line_count - 1, kind, reason, score, source.lines(0, source.line_count - 1))
            header = self.counter.count(_header(piece)) + PIECE_SLACK
            if self.used + count + header > self.budget:
                return False
            self._take(piece, count + header)
            return True
        added = False
        for start, end in gaps:
            added = self._add_range(path, start, end, kind, reason, score) or added
        return added

    def _add_range(self, path: str, start: int, end: int, kind: str, reason: str, score: float) -> bool:
        source = self._source(path)
        if source is None:
            return False
        end = min(end, source.line_count - 1)
        added = False
        for a, b in self.coverage.uncovered(path, start, end):
            if not source.lines(a, b).strip():
                continue
            piece = Piece(path, a, b, kind, reason, score, source.lines(a, b))
            tokens = self.counter.count(piece.render())
            if self.used + tokens > self.budget:
                continue
            self._take(piece, tokens)
            added = True
        return added

    def _take(self, piece: Piece, tokens: int) -> None:
        piece = Piece(piece.path, piece.start_line, piece.end_line, piece.kind, piece.reason, piece.score,
                      piece.text, tokens)
        self.pieces.append(piece)
        self.used += tokens
        if piece.path:
            self.coverage.add(piece.path, piece.start_line, piece.end_line)

    # -- the snapshot ----------------------------------------------------------------------------

    def _source(self, path: str) -> _Source | None:
        if path in self.sources:
            return self.sources[path]
        found: _Source | None = None
        with self.ws.store.read() as reader:
            info = reader.file(path)
            content = reader.content(info.file_id) if info is not None else None
            if info is not None and content is not None:
                found = _Source(path, info.file_id, content)
        self.sources[path] = found
        return found

    def _file_tokens(self, path: str) -> int | None:
        source = self._source(path)
        if source is None:
            return None
        cached = self.graph.store.token_counts({path: source.file_id}, self.counter.name)
        if path in cached:
            return cached[path]
        count = self.counter.count(source.whole())
        self.new_counts[path] = (source.file_id, count)
        return count

    def _remember_counts(self) -> None:
        self.graph.store.put_token_counts(self.new_counts, self.counter.name)

    def _seeds(self, current: str | None, rankings: dict[str, list[str]]) -> dict[str, float]:
        seeds: dict[str, float] = {}
        if current:
            seeds[current] = 4.0
        for path in self.request.open_files:
            rel = self.ws.relative(path)
            seeds[rel] = seeds.get(rel, 0.0) + 1.0
        for signal in ("bm25", "symbols"):
            for rank, path in enumerate(rankings.get(signal, [])[:20], 1):
                seeds[path] = seeds.get(path, 0.0) + 1.0 / rank
        return seeds


def _header(piece: Piece) -> str:
    return Piece(piece.path, piece.start_line, piece.end_line, piece.kind, "", 0.0, "").render()


def _chunk_reason(ranks: dict[str, int], symbol: str) -> str:
    what = f"{symbol} " if symbol else ""
    why = ", ".join(f"{signal} #{rank}" for signal, rank in sorted(ranks.items()))
    return f"{what}ranked for the query ({why})"

