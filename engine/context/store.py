"""Stored contexts: LMDB, zstd-compressed in independent blocks, ids ``ctx-<uuid>``.

Named databases:

    meta     id -> record (msgpack): source, type, created, expires, token count, sizes, checksums
    pieces   id -> zstd(msgpack) list of pieces with their byte offset and length in the text
    blocks   id + block number -> zstd frame (with content checksum) of ``block_size`` bytes of text
    expiry   expiry time + id -> ""   (ordered, so expiring is a prefix scan)

A context's text is its pieces rendered and concatenated (UTF-8). It is written and read one block at a
time, so creating, merging and streaming a 1M-token context never holds more than a block or two in
memory. Blocks are written first and the ``meta`` record last: a context exists only once complete,
and a failed or oversized upload leaves nothing behind (its blocks are deleted, or swept by
:meth:`ContextStore.expire` after a crash).
"""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import logging
import threading
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import lmdb
import msgpack
import zstandard

from .model import Context, ContextCorrupt, ContextError, ContextNotFound, check_budget
from .records import (
    TIME,
    ContextInfo,
    StoredPiece,
    block_key,
    check_chunk_size,
    check_id,
    new_id,
    with_tokens,
)
from .settings import ContextSettings
from .tokens import TokenCounter, counter_for
from .writer import Upload, Writer, chunks_of

log = logging.getLogger(__name__)

MAP_SIZE = 1 << 38
_DBS = ("meta", "pieces", "blocks", "expiry")
ORPHAN_AGE = 3600.0


class ContextStore:
    """Contexts of one store folder. Use :meth:`open` (one instance per folder per process)."""

    _open: ClassVar[dict[str, ContextStore]] = {}
    _open_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path, settings: ContextSettings) -> None:
        self.path = path
        self.settings = settings
        try:
            path.mkdir(parents=True, exist_ok=True)
            self.env = lmdb.open(str(path), map_size=MAP_SIZE, max_dbs=len(_DBS), metasync=False,
                                 readahead=False, max_readers=256)
        except (lmdb.Error, OSError) as exc:
            raise ContextError(f"cannot open the context store at {path}: {exc}") from exc
        self.db = {name: self.env.open_db(name.encode()) for name in _DBS}

    @classmethod
    def open(cls, path: Path, settings: ContextSettings | None = None) -> ContextStore:
        key = str(path.resolve())
        with cls._open_lock:
            found = cls._open.get(key)
            if found is None:
                found = cls._open[key] = cls(path, settings or ContextSettings())
            elif settings is not None:
                found.settings = settings
            return found

    def close(self) -> None:
        with self._open_lock:
            self._open.pop(str(self.path.resolve()), None)
        self.env.close()

    # -- creating --------------------------------------------------------------------------------

    def put(self, context: Context, source: str = "request", type_: str = "code") -> ContextInfo:
        """Store a built context."""
        writer = Writer(self, new_id())
        try:
            for piece in context.pieces:
                writer.add_piece(piece, piece.render().encode("utf-8", "surrogateescape"))
            request = context.request.to_json() if context.request else None
            info = writer.finish(source, type_, context.token_count, context.tokenizer, context.exact,
                                 context.budget, request)
        except BaseException:
            writer.abort()
            raise
        self.expire()
        return info

    def create_from_content(self, content: str | bytes | Iterable[bytes], max_tokens: int | None = None,
                            source: str = "user-upload", type_: str = "document",
                            counter: TokenCounter | None = None) -> ContextInfo:
        """Store uploaded text (a string, bytes, or an iterable of byte chunks), refusing it with
        ContextTooLarge as soon as it exceeds ``max_tokens`` (default: the store's maximum)."""
        upload = Upload(self, max_tokens, counter)
        try:
            for chunk in chunks_of(content):
                upload.feed(chunk)
            info = upload.finish(source, type_)
        except BaseException:
            upload.writer.abort()
            raise
        self.expire()
        return info

    async def acreate_from_content(self, content: AsyncIterable[bytes], max_tokens: int | None = None,
                                   source: str = "user-upload", type_: str = "document",
                                   counter: TokenCounter | None = None) -> ContextInfo:
        """:meth:`create_from_content` for an async stream (an HTTP or WebSocket upload)."""
        upload = Upload(self, max_tokens, counter, own_txn=False)
        try:
            async for chunk in content:
                await asyncio.to_thread(upload.feed, bytes(chunk))
            info = await asyncio.to_thread(upload.finish, source, type_)
        except BaseException:
            await asyncio.to_thread(upload.writer.abort)
            raise
        await asyncio.to_thread(self.expire)
        return info

    def merge(self, context_ids: list[str], budget: int, counter: TokenCounter | None = None) -> ContextInfo:
        """A new context holding the pieces of ``context_ids`` in order, each piece once (by hash),
        cut to ``budget`` tokens. Piece texts are copied block by block: memory stays bounded."""
        if len(context_ids) < 2:
            raise ContextError("merging needs at least two context ids")
        check_budget(budget, self.settings.max_tokens)
        infos = [self.get(cid) for cid in context_ids]
        tokenizers = {i.tokenizer for i in infos}
        recount = counter if len(tokenizers) > 1 else None
        if recount is None and len(tokenizers) > 1:
            recount = counter_for(None, self.settings.tokenizer_dir)
        writer = Writer(self, new_id())
        seen: set[str] = set()
        total = 0
        try:
            for info in infos:
                for piece, data in self._piece_texts(info):
                    if piece.hash in seen:
                        continue
                    tokens = piece.tokens if recount is None else recount.count(data.decode("utf-8", "replace"))
                    if total + tokens > budget:
                        continue
                    seen.add(piece.hash)
                    total += tokens
                    writer.add_piece(with_tokens(piece, tokens), data)
            first = infos[0]
            tokenizer = first.tokenizer if recount is None else recount.name
            exact = all(i.exact for i in infos) if recount is None else recount.exact
            merged = writer.finish("merge:" + ",".join(context_ids), first.type, total, tokenizer, exact, budget,
                                   None)
        except BaseException:
            writer.abort()
            raise
        return merged

    # -- reading ---------------------------------------------------------------------------------

    def get(self, context_id: str) -> ContextInfo:
        """The context's metadata; ContextNotFound when unknown or expired, ContextCorrupt when damaged."""
        key = check_id(context_id)
        with self.env.begin(db=self.db["meta"]) as txn:
            raw = txn.get(key)
        if raw is None:
            raise ContextNotFound(f"no context {context_id}")
        try:
            info = ContextInfo._from_record(context_id, msgpack.unpackb(raw))
        except (ValueError, TypeError, msgpack.UnpackException) as exc:
            raise ContextCorrupt(f"context {context_id} has a damaged record: {exc}") from exc
        if info.expires_at is not None and info.expires_at <= time.time():
            raise ContextNotFound(f"context {context_id} has expired")
        return info

    def contexts(self) -> list[ContextInfo]:
        out = []
        with self.env.begin(db=self.db["meta"]) as txn:
            keys = [bytes(k).decode() for k in txn.cursor().iternext(keys=True, values=False)]
        for key in keys:
            try:
                out.append(self.get(key))
            except (ContextNotFound, ContextCorrupt):
                continue
        return sorted(out, key=lambda i: (i.created_at, i.context_id))

    def pieces(self, context_id: str) -> list[StoredPiece]:
        self.get(context_id)
        with self.env.begin(db=self.db["pieces"]) as txn:
            raw = txn.get(context_id.encode())
        if raw is None:
            raise ContextCorrupt(f"context {context_id} has lost its piece list")
        try:
            rows = msgpack.unpackb(zstandard.ZstdDecompressor().decompress(raw))
            return [StoredPiece(*row) for row in rows]
        except (zstandard.ZstdError, ValueError, TypeError, msgpack.UnpackException) as exc:
            raise ContextCorrupt(f"context {context_id} has a damaged piece list: {exc}") from exc

    def page(self, context_id: str, page: int = 0, page_size: int = 50) -> dict[str, Any]:
        """Pieces ``page * page_size`` onwards with their text: ``{"contextId", "page", "pages", "pieces"}``."""
        if page < 0 or page_size < 1:
            raise ContextError("page must be >= 0 and page size >= 1")
        info = self.get(context_id)
        pieces = self.pieces(context_id)
        chosen = pieces[page * page_size:(page + 1) * page_size]
        out = []
        for piece in chosen:
            data = self.read(context_id, piece.offset, piece.length, info)
            out.append({**piece.to_json(), "text": data.decode("utf-8", "replace")})
        pages = max(1, -(-len(pieces) // page_size))
        return {"contextId": context_id, "page": page, "pages": pages, "pieceCount": len(pieces), "pieces": out}

    def read(self, context_id: str, offset: int = 0, length: int | None = None,
             info: ContextInfo | None = None) -> bytes:
        """Bytes ``[offset, offset + length)`` of the context's text (decompressing only those blocks)."""
        info = info or self.get(context_id)
        end = info.size if length is None else min(info.size, offset + length)
        out = bytearray()
        first = offset // info.block_size
        for index in range(first, -(-end // info.block_size) if end > 0 else 0):
            block = self._block(info, index)
            base = index * info.block_size
            out += block[max(0, offset - base):max(0, end - base)]
        return bytes(out)

    def text(self, context_id: str) -> str:
        return self.read(context_id).decode("utf-8", "replace")

    def iter_bytes(self, context_id: str, chunk_size: int | None = None) -> Iterator[bytes]:
        """The context's text in chunks of ``chunk_size`` bytes (the last may be shorter)."""
        info = self.get(context_id)
        size = check_chunk_size(chunk_size or self.settings.chunk_size)
        sha = hashlib.sha256()
        pending = bytearray()
        for index in range(info.blocks):
            block = self._block(info, index)
            sha.update(block)
            pending += block
            while len(pending) >= size:
                yield bytes(pending[:size])
                del pending[:size]
        if pending:
            yield bytes(pending)
        if sha.hexdigest() != info.sha256:
            raise ContextCorrupt(f"context {context_id} does not match its checksum")

    async def stream(self, context_id: str, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """Async iterator over the text in ``chunk_size``-byte chunks (64 KiB default).

        Blocks are read and decompressed in a worker thread, the next one while the current one's
        chunks are consumed, so memory stays bounded by two blocks whatever the context's size, and a
        slow consumer simply pauses the reading. Raises ContextCorrupt (after the chunks read so far)
        when a block is damaged or the whole does not match its checksum."""
        info = await asyncio.to_thread(self.get, context_id)
        size = check_chunk_size(chunk_size or self.settings.chunk_size)
        sha = hashlib.sha256()
        pending = b""
        following = asyncio.ensure_future(asyncio.to_thread(self._block, info, 0)) if info.blocks else None
        try:
            for index in range(info.blocks):
                assert following is not None
                block = await following
                following = (asyncio.ensure_future(asyncio.to_thread(self._block, info, index + 1))
                             if index + 1 < info.blocks else None)
                sha.update(block)
                data = pending + block if pending else block
                del block
                last = index + 1 == info.blocks
                whole = len(data) if last else len(data) - len(data) % size
                view = memoryview(data)
                for offset in range(0, whole, size):
                    yield bytes(view[offset:offset + size])
                pending = bytes(view[whole:])
                view.release()
                del data
        finally:
            if following is not None:
                following.cancel()
        if sha.hexdigest() != info.sha256:
            raise ContextCorrupt(f"context {context_id} does not match its checksum")

    async def stream_text(self, context_id: str, chunk_size: int | None = None) -> AsyncIterator[str]:
        """Like :meth:`stream`, decoded: a chunk never ends inside a character."""
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        async for chunk in self.stream(context_id, chunk_size):
            text = decoder.decode(chunk)
            if text:
                yield text
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail

    # -- deleting --------------------------------------------------------------------------------

    def delete(self, context_id: str) -> None:
        key = check_id(context_id)
        with self.env.begin(write=True) as txn:
            raw = txn.get(key, db=self.db["meta"])
            if raw is None:
                raise ContextNotFound(f"no context {context_id}")
            self._delete_in(txn, context_id, raw)

    def expire(self, now: float | None = None) -> int:
        """Delete contexts past their expiry, and blocks a crashed upload left without a record."""
        now = time.time() if now is None else now
        removed = 0
        with self.env.begin(write=True) as txn:
            cursor = txn.cursor(db=self.db["expiry"])
            due = []
            for key in cursor.iternext(keys=True, values=False):
                if TIME.unpack(key[:8])[0] > now:
                    break
                due.append(bytes(key))
            for key in due:
                context_id = key[8:].decode()
                raw = txn.get(key[8:], db=self.db["meta"])
                txn.delete(key, db=self.db["expiry"])
                if raw is not None:
                    self._delete_in(txn, context_id, raw)
                    removed += 1
        self._sweep_orphans(now)
        return removed

    def _delete_in(self, txn: lmdb.Transaction, context_id: str, raw_meta: bytes) -> None:
        key = context_id.encode()
        try:
            expires = msgpack.unpackb(raw_meta)[4]
        except (ValueError, TypeError, IndexError, msgpack.UnpackException):
            expires = None
        if expires is not None:
            txn.delete(TIME.pack(expires) + key, db=self.db["expiry"])
        txn.delete(key, db=self.db["meta"])
        txn.delete(key, db=self.db["pieces"])
        self._delete_blocks(context_id, txn)

    def _delete_blocks(self, context_id: str, txn: lmdb.Transaction | None = None) -> None:
        if txn is None:
            with self.env.begin(write=True) as own:
                self._delete_blocks(context_id, own)
            return
        prefix = context_id.encode()
        cursor = txn.cursor(db=self.db["blocks"])
        if cursor.set_range(prefix):
            while bytes(cursor.key()).startswith(prefix) and len(cursor.key()) == len(prefix) + 4:
                if not cursor.delete():
                    break

    def _sweep_orphans(self, now: float) -> None:
        """Blocks without a meta record belong to an upload in flight or one that crashed; the latter
        are recognisable by age (the uuid carries no time, so the sweep remembers first sightings)."""
        with self.env.begin(write=True) as txn:
            cursor = txn.cursor(db=self.db["blocks"])
            orphans: set[str] = set()
            for key in cursor.iternext(keys=True, values=False):
                context_id = bytes(key[:-4]).decode()
                if txn.get(key[:-4], db=self.db["meta"]) is None:
                    orphans.add(context_id)
            for context_id in orphans:
                marker = b"orphan:" + context_id.encode()
                seen = txn.get(marker, db=self.db["meta"])
                if seen is None:
                    txn.put(marker, TIME.pack(now), db=self.db["meta"])
                elif now - TIME.unpack(seen)[0] > ORPHAN_AGE:
                    self._delete_blocks(context_id, txn)
                    txn.delete(marker, db=self.db["meta"])

    # -- blocks ----------------------------------------------------------------------------------

    def _block(self, info: ContextInfo, index: int) -> bytes:
        with self.env.begin(db=self.db["blocks"]) as txn:
            frame = txn.get(block_key(info.context_id, index))
            if frame is None:
                raise ContextCorrupt(f"context {info.context_id} is missing block {index} of {info.blocks}")
            try:
                return zstandard.ZstdDecompressor().decompress(frame)
            except zstandard.ZstdError as exc:
                raise ContextCorrupt(f"context {info.context_id}: block {index} is damaged ({exc})") from exc

    def _piece_texts(self, info: ContextInfo) -> Iterator[tuple[StoredPiece, bytes]]:
        """Each piece with its bytes, reading the blocks once, in order (pieces are contiguous)."""
        pieces = self.pieces(info.context_id)
        pending = bytearray()
        base = 0  # offset of pending[0] in the text
        index = 0
        for piece in pieces:
            while base + len(pending) < piece.offset + piece.length and index < info.blocks:
                pending += self._block(info, index)
                index += 1
            start = piece.offset - base
            data = bytes(pending[start:start + piece.length])
            if len(data) != piece.length:
                raise ContextCorrupt(f"context {info.context_id} is shorter than its piece list says")
            yield piece, data
            drop = piece.offset + piece.length - base
            del pending[:drop]
            base += drop


__all__ = ["ContextInfo", "ContextStore", "StoredPiece", "new_id"]
