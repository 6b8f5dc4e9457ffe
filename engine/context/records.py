"""What the context store keeps about a context and its pieces, and the small rules for ids and keys."""

from __future__ import annotations

import re
import struct
import uuid
from dataclasses import dataclass
from typing import Any

from .model import ContextError, ContextNotFound

_ID = re.compile(r"^ctx-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_BLOCK = struct.Struct(">I")
TIME = struct.Struct(">d")


@dataclass(frozen=True, slots=True)
class ContextInfo:
    """A stored context's metadata; ``to_json`` is the seed's /api/context/create reply, extended."""

    context_id: str
    source: str
    type: str
    created_at: float
    expires_at: float | None
    token_count: int
    tokenizer: str
    exact: bool
    budget: int | None
    size: int  # bytes of text
    compressed_size: int
    blocks: int
    block_size: int
    pieces: int
    sha256: str
    request: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"contextId": self.context_id, "tokenCount": self.token_count, "compressed": True,
                "metadata": {"type": self.type, "source": self.source}, "createdAt": self.created_at,
                "expiresAt": self.expires_at, "bytes": self.size, "compressedBytes": self.compressed_size,
                "pieces": self.pieces, "tokenizer": self.tokenizer, "exact": self.exact, "budget": self.budget,
                "request": self.request}

    def _record(self) -> list[Any]:
        return [1, self.source, self.type, self.created_at, self.expires_at, self.token_count, self.tokenizer,
                self.exact, self.budget, self.size, self.compressed_size, self.blocks, self.block_size,
                self.pieces, self.sha256, self.request]

    @classmethod
    def _from_record(cls, context_id: str, record: list[Any]) -> ContextInfo:
        (_version, source, type_, created, expires, tokens, tokenizer, exact, budget, size, compressed, blocks,
         block_size, pieces, sha256, request) = record
        return cls(context_id, source, type_, created, expires, tokens, tokenizer, exact, budget, size,
                   compressed, blocks, block_size, pieces, sha256, request)


@dataclass(frozen=True, slots=True)
class StoredPiece:
    path: str
    start_line: int
    end_line: int
    kind: str
    reason: str
    score: float
    tokens: int
    hash: str
    offset: int  # byte offset of the rendered piece in the context's text
    length: int  # bytes

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "startLine": self.start_line + 1, "endLine": self.end_line + 1,
                "kind": self.kind, "reason": self.reason, "score": self.score, "tokens": self.tokens,
                "hash": self.hash, "offset": self.offset, "length": self.length}


def new_id() -> str:
    return f"ctx-{uuid.uuid4()}"


def block_key(context_id: str, index: int) -> bytes:
    return context_id.encode() + _BLOCK.pack(index)


def with_tokens(piece: StoredPiece, tokens: int) -> StoredPiece:
    return StoredPiece(piece.path, piece.start_line, piece.end_line, piece.kind, piece.reason, piece.score,
                       tokens, piece.hash, piece.offset, piece.length)


def check_chunk_size(size: int) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ContextError(f"the chunk size must be a positive number of bytes, not {size!r}")
    return size


def check_id(context_id: str) -> bytes:
    if not isinstance(context_id, str) or not _ID.match(context_id):
        raise ContextNotFound(f"{context_id!r} is not a context id (ctx-<uuid>)")
    return context_id.encode()
