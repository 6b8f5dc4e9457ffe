"""Cutting a file into definition-level chunks: the unit of text search and of AI context.

A definition of some size becomes a chunk of its own (with the comment or decorator lines right above
it). Small neighbours (constants, one-line functions, imports, top-level statements) are grouped into
chunks of up to ``MAX_LINES``, so a chunk is never a stray `;`. A definition too large for one chunk is
cut at its nested definitions (a class at its methods) or, failing that, into windows of lines; every
window also respects a byte budget so that a minified one-line file still yields bounded chunks.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

# A chunk is (start_line, end_line_inclusive, start_byte, end_byte, kind, symbol).
RawChunk = tuple[int, int, int, int, str, str]
# What chunking needs from a symbol: (start_byte, end_byte, depth, qualified_name).
Span = tuple[int, int, int, str]

MAX_LINES = 80
MAX_BYTES = 6000
SMALL_LINES = 6  # definitions up to this size are grouped with their neighbours
LEAD_LINES = 3  # a gap this short right above a definition (comments, decorators) joins it
_BLANK = b" \t\r\n"


class Chunker:
    def __init__(self, source: bytes, line_starts: list[int], spans: list[Span]) -> None:
        self.source = source
        self.line_starts = line_starts
        self.spans = spans
        self.span_starts = [s[0] for s in spans]
        self.out: list[RawChunk] = []

    def line_of(self, offset: int) -> int:
        return bisect_right(self.line_starts, offset) - 1

    def lines(self, start: int, end: int) -> int:
        return self.line_of(max(end - 1, start)) - self.line_of(start) + 1

    def run(self) -> list[RawChunk]:
        self._region(0, len(self.source), 0, "")
        return self.out

    def _region(self, start: int, end: int, depth: int, owner: str) -> None:
        """Chunk bytes [start, end): definitions at ``depth`` inside it and the code between them."""
        group: list[tuple[int, int, str]] = []  # small pieces waiting to be grouped: (start, end, name)
        header_start = self._trim(start, end)[0]
        cursor = start
        spans = self.spans
        for index in range(bisect_right(self.span_starts, start - 1), len(spans)):
            def_start, def_end, def_depth, name = spans[index]
            if def_start >= end:
                break
            if def_depth != depth or def_start < cursor or def_end > end:
                continue
            gap_start, gap_end = self._trim(cursor, def_start)
            cursor = def_end
            big = self.lines(def_start, def_end) > SMALL_LINES
            # The short gap above a definition (comments, decorators) joins it, except a nested
            # region's opening gap: that is the owner's own header (`class Big:`).
            lead = (gap_end > gap_start and big and self.lines(gap_start, gap_end) <= LEAD_LINES
                    and not (owner and gap_start == header_start))
            if gap_end > gap_start and not lead:
                group.append((gap_start, gap_end, ""))
            if not big:
                group.append((gap_start if lead else def_start, def_end, name))
                continue
            self._flush(group, owner)
            self._definition(gap_start if lead else def_start, def_end, def_start, depth, name)
        gap_start, gap_end = self._trim(cursor, end)
        if gap_end > gap_start:
            group.append((gap_start, gap_end, ""))
        self._flush(group, owner)

    def _definition(self, start: int, end: int, def_start: int, depth: int, name: str) -> None:
        if self.lines(start, end) <= MAX_LINES and end - start <= MAX_BYTES:
            self._emit(start, end, "definition", name)
            return
        first = bisect_right(self.span_starts, def_start - 1)
        nested = any(s[2] == depth + 1 and s[1] <= end for s in self.spans[first:first + 64] if s[0] < end)
        if nested:
            self._region(start, end, depth + 1, name)
        else:
            self._windows(start, end, "part", name)

    def _flush(self, group: list[tuple[int, int, str]], owner: str) -> None:
        """Emit the waiting small pieces, packed in order into chunks of bounded size."""
        if not group:
            return
        pack_start, pack_end, names = group[0][0], group[0][1], [group[0][2]]
        for start, end, name in group[1:]:
            if self.lines(pack_start, end) <= MAX_LINES and end - pack_start <= MAX_BYTES:
                pack_end = end
                names.append(name)
                continue
            self._emit_pack(pack_start, pack_end, names, owner)
            pack_start, pack_end, names = start, end, [name]
        self._emit_pack(pack_start, pack_end, names, owner)
        group.clear()

    def _emit_pack(self, start: int, end: int, names: list[str], owner: str) -> None:
        defined = [n for n in names if n]
        if len(defined) == 1 and len(names) == 1:
            self._windows(start, end, "definition", defined[0])
        else:
            self._windows(start, end, "part" if owner else "module", owner)

    def _trim(self, start: int, end: int) -> tuple[int, int]:
        source = self.source
        while start < end and source[start] in _BLANK:
            start += 1
        while end > start and source[end - 1] in _BLANK:
            end -= 1
        return start, end

    def _windows(self, start: int, end: int, kind: str, name: str) -> None:
        line_starts = self.line_starts
        cursor = start
        while cursor < end:
            limit_line = self.line_of(cursor) + MAX_LINES
            stop = line_starts[limit_line] if limit_line < len(line_starts) else end
            stop = min(stop, end, cursor + MAX_BYTES)
            if stop < end:
                # Prefer to cut at a line end inside the byte budget.
                newline = self.source.rfind(b"\n", cursor, stop)
                if newline > cursor:
                    stop = newline + 1
            self._emit(cursor, stop, kind, name)
            cursor = stop

    def _emit(self, start: int, end: int, kind: str, name: str) -> None:
        self.out.append((self.line_of(start), self.line_of(max(end - 1, start)), start, end, kind, name))


def line_starts_of(source: bytes) -> list[int]:
    """Byte offset of each line's start; lines end at b"\\n" only, as tree-sitter counts rows."""
    return list(accumulate((len(line) + 1 for line in source.split(b"\n")), initial=0))[:-1]


def make_chunks(source: bytes, line_starts: list[int], spans: list[Span]) -> list[RawChunk]:
    """``spans`` must be sorted by start byte (outer before inner), as the extractor produces them."""
    return Chunker(source, line_starts, spans).run()
