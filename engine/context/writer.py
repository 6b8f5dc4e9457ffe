"""Writing a context's text into the store, block by block, and taking uploads in."""

from __future__ import annotations

import codecs
import hashlib
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import lmdb
import msgpack
import zstandard

from .model import ContextError, ContextTooLarge, Piece, check_budget
from .records import TIME, ContextInfo, StoredPiece, block_key, new_id
from .tokens import TokenCounter, counter_for

if TYPE_CHECKING:
    from .store import ContextStore

UPLOAD_PIECE = 64 * 1024  # uploaded text is cut into pieces of about this size, at line ends


class Writer:
    """Accumulates a context's text and writes it block by block.

    A synchronous caller writes everything in one transaction (one commit; a failure aborts it and
    leaves nothing). An async upload (``own_txn=False``) writes each block in its own transaction, so it
    can await between blocks without holding LMDB's write lock across threads; its blocks are visible
    only through the record written last, and deleted if it fails."""

    def __init__(self, store: ContextStore, context_id: str, own_txn: bool = True) -> None:
        self.store = store
        self.context_id = context_id
        self.txn: lmdb.Transaction | None = store.env.begin(write=True) if own_txn else None
        self.buffer = bytearray()
        self.blocks = 0
        self.size = 0
        self.compressed = 0
        self.sha = hashlib.sha256()
        self.pieces: list[list[Any]] = []
        self.compressor = zstandard.ZstdCompressor(level=store.settings.compression_level, write_checksum=True)

    def add_piece(self, piece: Piece | StoredPiece, data: bytes) -> None:
        self.pieces.append([piece.path, piece.start_line, piece.end_line, piece.kind, piece.reason,
                            float(piece.score), piece.tokens, piece.hash, self.size, len(data)])
        self.write(data)

    def write(self, data: bytes) -> None:
        self.size += len(data)
        self.sha.update(data)
        self.buffer += data
        block_size = self.store.settings.block_size
        while len(self.buffer) >= block_size:
            self._flush(bytes(self.buffer[:block_size]))
            del self.buffer[:block_size]

    def _flush(self, block: bytes) -> None:
        frame = self.compressor.compress(block)
        key = block_key(self.context_id, self.blocks)
        if self.txn is not None:
            self.txn.put(key, frame, db=self.store.db["blocks"])
        else:
            with self.store.env.begin(write=True, db=self.store.db["blocks"]) as txn:
                txn.put(key, frame)
        self.blocks += 1
        self.compressed += len(frame)

    def finish(self, source: str, type_: str, tokens: int, tokenizer: str, exact: bool, budget: int | None,
               request: dict[str, Any] | None) -> ContextInfo:
        if self.buffer:
            self._flush(bytes(self.buffer))
            self.buffer.clear()
        settings = self.store.settings
        now = time.time()
        expires = now + settings.ttl if settings.ttl > 0 else None
        pieces = zstandard.ZstdCompressor(level=3, write_checksum=True).compress(msgpack.packb(self.pieces))
        info = ContextInfo(self.context_id, source, type_, now, expires, tokens, tokenizer, exact, budget,
                           self.size, self.compressed + len(pieces), self.blocks, settings.block_size,
                           len(self.pieces), self.sha.hexdigest(), request)
        key = self.context_id.encode()
        txn = self.txn if self.txn is not None else self.store.env.begin(write=True)
        try:
            txn.put(key, pieces, db=self.store.db["pieces"])
            if expires is not None:
                txn.put(TIME.pack(expires) + key, b"", db=self.store.db["expiry"])
            txn.put(key, msgpack.packb(info._record()), db=self.store.db["meta"])
        except BaseException:
            txn.abort()
            self.txn = None
            raise
        txn.commit()
        self.txn = None
        return info

    def abort(self) -> None:
        if self.txn is not None:
            self.txn.abort()
            self.txn = None
        else:
            self.store._delete_blocks(self.context_id)


class Upload:
    """Uploaded text on its way in: cut at line ends into pieces, counted, refused past the limit."""

    def __init__(self, store: ContextStore, max_tokens: int | None, counter: TokenCounter | None,
                 own_txn: bool = True) -> None:
        limit = store.settings.max_tokens if max_tokens is None else max_tokens
        check_budget(limit, store.settings.max_tokens)
        self.limit = limit
        self.counter = counter or counter_for(None, store.settings.tokenizer_dir)
        self.writer = Writer(store, new_id(), own_txn)
        self.decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self.pending = ""
        self.tokens = 0
        self.part = 0
        self.line = 0

    def feed(self, chunk: bytes) -> None:
        try:
            self.pending += self.decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise ContextError(f"uploaded content is not valid UTF-8 (byte {exc.start} of a chunk)") from exc
        while len(self.pending) >= UPLOAD_PIECE:
            cut = self.pending.rfind("\n", 0, UPLOAD_PIECE) + 1 or UPLOAD_PIECE
            self._piece(self.pending[:cut])
            self.pending = self.pending[cut:]

    def _piece(self, text: str) -> None:
        tokens = self.counter.count(text)
        if self.tokens + tokens > self.limit:
            raise ContextTooLarge(f"the content is more than {self.limit:,} tokens (the context size limit); "
                                  "nothing was stored")
        self.tokens += tokens
        lines = text.count("\n")
        end = self.line + max(lines - (1 if text.endswith("\n") else 0), 0)
        piece = Piece("", self.line, end, "upload", f"uploaded content, part {self.part + 1}", 0.0, text, tokens)
        self.writer.add_piece(piece, text.encode("utf-8", "surrogatepass"))
        self.line += lines
        self.part += 1

    def finish(self, source: str, type_: str) -> ContextInfo:
        try:
            self.pending += self.decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise ContextError("uploaded content ends inside a UTF-8 character") from exc
        if self.pending:
            self._piece(self.pending)
            self.pending = ""
        return self.writer.finish(source, type_, self.tokens, self.counter.name, self.counter.exact, self.limit,
                                  None)


def chunks_of(content: str | bytes | Iterable[bytes]) -> Iterable[bytes]:
    if isinstance(content, str):
        data = content.encode("utf-8", "surrogatepass")
        return (data[i:i + UPLOAD_PIECE] for i in range(0, len(data), UPLOAD_PIECE))
    if isinstance(content, (bytes, bytearray, memoryview)):
        data = bytes(content)
        return (data[i:i + UPLOAD_PIECE] for i in range(0, len(data), UPLOAD_PIECE))
    return content
