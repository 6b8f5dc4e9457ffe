"""Values the engine hands out. Positions are tree-sitter's: zero-based rows and *byte* columns within
the line's UTF-8 encoding; adapters convert to the client's encoding (LSP: UTF-16) with the line text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Symbol kinds, named like LSP's SymbolKind so adapters map them one to one.
KINDS = (
    "module", "namespace", "class", "interface", "struct", "enum", "enum_member", "function", "method",
    "constructor", "field", "property", "variable", "constant", "type", "macro",
)


@dataclass(frozen=True, slots=True)
class Span:
    """A range in a file: rows and byte columns, end exclusive (tree-sitter points)."""

    start_line: int
    start_col: int
    end_line: int
    end_col: int

    def contains(self, line: int, col: int) -> bool:
        return (self.start_line, self.start_col) <= (line, col) <= (self.end_line, self.end_col)


@dataclass(frozen=True, slots=True)
class Symbol:
    name: str
    kind: str
    container: str  # qualified name of the enclosing symbol, "" at top level
    span: Span  # the whole definition
    name_span: Span  # just the name
    signature: str  # the definition's head, whitespace collapsed
    doc: str  # docstring or leading comment, "" when none
    depth: int  # nesting depth, 0 at top level
    start_byte: int
    end_byte: int

    @property
    def qualified_name(self) -> str:
        return f"{self.container}.{self.name}" if self.container else self.name


@dataclass(frozen=True, slots=True)
class Import:
    module: str  # as written: "os.path", ".models", "./util", "java.util.List", "vector"
    names: tuple[str, ...]  # names brought in ("*" for a wildcard), empty for `import x`
    alias: str  # local name for `import x as y`, else ""
    line: int


@dataclass(frozen=True, slots=True)
class Chunk:
    """A definition-level piece of a file, the unit of text search and of AI context."""

    start_line: int
    end_line: int  # inclusive
    start_byte: int
    end_byte: int
    kind: str  # "definition", "part" (a piece of a large definition) or "module" (top-level code)
    symbol: str  # qualified name of the definition, "" for module code


@dataclass(frozen=True, slots=True)
class Reference:
    name: str
    line: int
    start_col: int
    end_col: int


@dataclass(frozen=True, slots=True)
class CellSpan:
    """Where a notebook code cell sits in the file's indexed text (cells joined by newlines)."""

    cell: int  # index among all cells of the notebook
    start_line: int
    line_count: int


@dataclass(frozen=True, slots=True)
class FileInfo:
    path: str  # relative to the workspace root, '/'-separated
    file_id: int
    language: str
    size: int
    mtime_ns: int
    content_hash: str
    status: str  # "ok", "errors" (parsed with syntax errors)
    symbols: int
    chunks: int
    indexed_at: float
    cells: tuple[CellSpan, ...] = ()


@dataclass(frozen=True, slots=True)
class Skipped:
    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class SymbolHit:
    path: str
    name: str
    kind: str
    container: str
    line: int
    col: int
    signature: str
    language: str
    score: float


@dataclass(frozen=True, slots=True)
class TextHit:
    path: str
    line: int  # first line of the matching chunk
    end_line: int
    symbol: str
    language: str
    score: float
    preview: str = field(default="")
