"""What one indexed file version is, on its way from a parsing worker to the store."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import CellSpan


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
    # msgpack'd in the worker, so the writer process only copies bytes into LMDB:
    symbols: bytes  # list of RawSymbol
    imports: bytes  # list of RawImport
    refs: bytes  # [names, array('I') bytes of (name index | CALL_BIT, start byte, end byte)]
    chunks: bytes  # list of RawChunk
    facts: bytes  # the code graph's FileFacts record (``graph.facts``)
    symbol_count: int
    chunk_count: int
    cells: tuple[CellSpan, ...]
    docs: list[str]  # Tantivy documents as JSON


@dataclass(frozen=True, slots=True)
class FileState:
    """The cheap part of a file record: enough to decide whether a file changed."""

    file_id: int
    size: int
    mtime_ns: int
    content_hash: str
