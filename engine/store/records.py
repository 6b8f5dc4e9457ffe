"""What one indexed file version is, on its way from a parsing worker to the store."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import CellSpan
from ..parsing.chunks import RawChunk
from ..parsing.extract import RawImport, RawSymbol


@dataclass(frozen=True, slots=True)
class FileVersion:
    path: str
    file_id: int
    size: int
    mtime_ns: int
    content_hash: str
    language: str
    status: str  # "ok" or "errors"
    error_count: int
    content_z: bytes  # zstd-compressed file text (for notebooks: the joined code cells)
    symbols: list[RawSymbol]
    imports: list[RawImport]
    ref_names: list[str]
    refs: bytes  # array('I') of (name index | CALL_BIT, start byte, end byte)
    chunks: list[RawChunk]
    cells: tuple[CellSpan, ...]
    docs: list[str]  # Tantivy documents as JSON


@dataclass(frozen=True, slots=True)
class FileState:
    """The cheap part of a file record: enough to decide whether a file changed."""

    file_id: int
    size: int
    mtime_ns: int
    content_hash: str
