"""Conversions between engine values and lsprotocol types: the only place that knows both.

Positions: the engine speaks tree-sitter points (rows split at ``\\n``, UTF-8 byte columns); LSP speaks
lines (split at ``\\n``, ``\\r\\n`` or ``\\r``) and columns in the negotiated encoding, UTF-16 code
units unless the client offered UTF-8. A :class:`LineMap` over a text's bytes converts both ways
through absolute byte offsets, so a lone ``\\r`` or a line of emoji cannot shift a result.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from pathlib import Path

from lsprotocol import types

from nexus.engine.diagnostics import Problem
from nexus.engine.model import Span
from nexus.engine.parsing.chunks import line_starts_of

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


class LineMap:
    """Byte offsets of rows and LSP lines of one text, and conversions in one position encoding."""

    __slots__ = ("data", "encoding", "lines", "rows")

    def __init__(self, data: bytes, encoding: str = UTF16) -> None:
        self.data = data
        self.encoding = encoding
        self.rows = line_starts_of(data)
        if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
            self.lines = [0] + [m.end() for m in _LINE_BREAK.finditer(data)]
        else:
            self.lines = self.rows

    def _line_end(self, line: int) -> int:
        """Offset of the end of LSP line ``line``, before its line break."""
        end = self.lines[line + 1] if line + 1 < len(self.lines) else len(self.data)
        if line + 1 < len(self.lines):
            end -= 2 if self.data[end - 2:end] == b"\r\n" else 1
        return end

    def offset(self, position: types.Position) -> int:
        """Byte offset of an LSP position; past the end of a line means its end (as LSP says)."""
        line = position.line
        if line < 0:
            return 0
        if line >= len(self.lines):
            return len(self.data)
        start, end = self.lines[line], self._line_end(line)
        units = max(position.character, 0)
        if self.encoding == UTF8:
            return min(start + units, end)
        raw = self.data[start:end]
        if raw.isascii():
            return start + min(units, len(raw))
        text = raw.decode("utf-8", "replace")
        count = 0
        for index, char in enumerate(text):
            if count >= units:
                return start + len(text[:index].encode("utf-8", "surrogatepass"))
            count += 2 if self.encoding == UTF16 and ord(char) > 0xFFFF else 1
        return end

    def position_at(self, offset: int) -> types.Position:
        offset = max(0, min(offset, len(self.data)))
        line = bisect_right(self.lines, offset) - 1
        start = self.lines[line]
        offset = min(offset, self._line_end(line))
        raw = self.data[start:offset]
        if self.encoding == UTF8 or raw.isascii():
            return types.Position(line, len(raw))
        text = raw.decode("utf-8", "replace")
        if self.encoding == UTF32:
            return types.Position(line, len(text))
        return types.Position(line, len(text.encode("utf-16-le", "surrogatepass")) // 2)

    def row_col(self, position: types.Position) -> tuple[int, int]:
        """The engine's (row, byte column) of an LSP position."""
        offset = self.offset(position)
        row = bisect_right(self.rows, offset) - 1
        return row, offset - self.rows[row]

    def point_offset(self, row: int, col: int) -> int:
        if row >= len(self.rows):
            return len(self.data)
        return self.rows[max(row, 0)] + max(col, 0)

    def position(self, row: int, col: int) -> types.Position:
        return self.position_at(self.point_offset(row, col))

    def range(self, span: Span) -> types.Range:
        return types.Range(self.position(span.start_line, span.start_col), self.position(span.end_line, span.end_col))

    def range_of_offsets(self, start: int, end: int) -> types.Range:
        return types.Range(self.position_at(start), self.position_at(end))

    def in_range(self, position: types.Position) -> bool:
        return 0 <= position.line < len(self.lines) and position.character >= 0


def encoding_for(capabilities: types.ClientCapabilities) -> str:
    """UTF-8 when the client offers it (no conversion at all), else UTF-16, the LSP default."""
    general = capabilities.general
    offered = list(general.position_encodings or ()) if general is not None else []
    if types.PositionEncodingKind.Utf8 in offered:
        return UTF8
    if types.PositionEncodingKind.Utf16 not in offered and types.PositionEncodingKind.Utf32 in offered:
        return UTF32
    return UTF16


def lsp_encoding(encoding: str) -> types.PositionEncodingKind:
    return {UTF8: types.PositionEncodingKind.Utf8, UTF32: types.PositionEncodingKind.Utf32}.get(
        encoding, types.PositionEncodingKind.Utf16)


# -- kinds -----------------------------------------------------------------------------------------

SYMBOL_KINDS = {
    "module": types.SymbolKind.Module, "namespace": types.SymbolKind.Namespace, "class": types.SymbolKind.Class,
    "interface": types.SymbolKind.Interface, "struct": types.SymbolKind.Struct, "enum": types.SymbolKind.Enum,
    "enum_member": types.SymbolKind.EnumMember, "function": types.SymbolKind.Function,
    "method": types.SymbolKind.Method, "constructor": types.SymbolKind.Constructor,
    "field": types.SymbolKind.Field, "property": types.SymbolKind.Property,
    "variable": types.SymbolKind.Variable, "constant": types.SymbolKind.Constant,
    "type": types.SymbolKind.TypeParameter, "macro": types.SymbolKind.Constant,
}
COMPLETION_KINDS = {
    "module": types.CompletionItemKind.Module, "namespace": types.CompletionItemKind.Module,
    "class": types.CompletionItemKind.Class, "interface": types.CompletionItemKind.Interface,
    "struct": types.CompletionItemKind.Struct, "enum": types.CompletionItemKind.Enum,
    "enum_member": types.CompletionItemKind.EnumMember, "function": types.CompletionItemKind.Function,
    "method": types.CompletionItemKind.Method, "constructor": types.CompletionItemKind.Constructor,
    "field": types.CompletionItemKind.Field, "property": types.CompletionItemKind.Property,
    "variable": types.CompletionItemKind.Variable, "constant": types.CompletionItemKind.Constant,
    "type": types.CompletionItemKind.TypeParameter, "macro": types.CompletionItemKind.Constant,
    "keyword": types.CompletionItemKind.Keyword, "text": types.CompletionItemKind.Text,
    # jedi's types
    "instance": types.CompletionItemKind.Variable, "param": types.CompletionItemKind.Variable,
    "path": types.CompletionItemKind.File, "statement": types.CompletionItemKind.Variable,
}
FOLD_KINDS = {"comment": types.FoldingRangeKind.Comment, "imports": types.FoldingRangeKind.Imports,
              "region": types.FoldingRangeKind.Region}
SEVERITIES = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
              "information": types.DiagnosticSeverity.Information, "hint": types.DiagnosticSeverity.Hint}


def symbol_kind(kind: str) -> types.SymbolKind:
    return SYMBOL_KINDS.get(kind, types.SymbolKind.Variable)


def completion_kind(kind: str) -> types.CompletionItemKind:
    return COMPLETION_KINDS.get(kind, types.CompletionItemKind.Text)


def diagnostic(lines: LineMap, problem: Problem) -> types.Diagnostic:
    return types.Diagnostic(
        range=lines.range(problem.span),
        message=problem.message,
        severity=SEVERITIES.get(problem.severity, types.DiagnosticSeverity.Error),
        source="nexus" if problem.source == "syntax" else problem.source,
        code=problem.code or None,
        code_description=types.CodeDescription(href=problem.url) if problem.url else None,
        tags=[types.DiagnosticTag.Unnecessary] if problem.code in ("F401", "F841") else None,
    )


def markdown(signature: str, doc: str, language: str | None) -> types.MarkupContent:
    parts = []
    if signature:
        parts.append(f"```{language or ''}\n{signature}\n```")
    if doc:
        parts.append(doc)
    return types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts))


def uri_of(root: Path, rel: str) -> str:
    return (root / rel).as_uri()
