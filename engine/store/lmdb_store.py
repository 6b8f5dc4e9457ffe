"""The LMDB side of the index: the source of truth for what is indexed.

One LMDB environment per workspace, with named databases:

    meta      schema version, next file id, commit generation, timestamps, run state, last run summary
    files     path -> record of the *committed* version: the one readers see
    staged    path -> [record of the new version or None for a removal, ids it retires]
    ids       file id -> path, for every version whose data is kept (committed, staged, retiring)
    content   id -> zstd text                            symbols  id -> symbol tuples
    imports   id -> import tuples                        refs     id -> (names, packed triples)
    chunks    id -> chunk tuples                         facts    id -> the code graph's record of it
    skipped   path -> (reason, size, mtime)   files left out, so an unchanged one is not retried

A new version of a file gets a new id (never reused) and is *staged*: its data is written, but readers
keep resolving the committed version, whose data stays, until Tantivy has committed the new version's
documents; then :meth:`WriteBatch.promote` flips the path to it and drops the retired versions' data
in one transaction. So whatever a Tantivy searcher holds (the old documents before its commit, the new
ones after) resolves to data that is still in LMDB, and a crash at any moment leaves readers the last
committed state. Writes go through :class:`WriteBatch`, one LMDB transaction: a crash loses at most the
batch in flight, and readers in other processes always see a committed, consistent state.
"""

from __future__ import annotations

import logging
import struct
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lmdb
import msgpack
import zstandard

from ..errors import IndexError_
from ..model import CellSpan, Chunk, FileInfo, Import, Span, Symbol
from .records import FileState, FileVersion

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2  # 2: staged versions (1 marked ids pending and showed readers uncommitted ones)
MAP_SIZE = 1 << 36  # address space only; the file grows with the data
_DBS = ("meta", "files", "staged", "ids", "content", "symbols", "imports", "refs", "chunks", "skipped", "facts")
_DATA = ("ids", "content", "symbols", "imports", "refs", "chunks", "facts")
_OPTIONAL = ("facts",)  # added within schema v2: a store written before has none (graph facts are derived)
_ID = struct.Struct(">I")

pack = msgpack.packb
unpack = msgpack.unpackb


class SchemaMismatch(IndexError_):
    def __init__(self, found: int | None) -> None:
        super().__init__(f"index schema v{found} found, v{SCHEMA_VERSION} needed")
        self.found = found


def path_key(path: str) -> bytes:
    return path.encode("utf-8", "surrogateescape")


def key_path(key: bytes | memoryview) -> str:
    return bytes(key).decode("utf-8", "surrogateescape")


def id_key(file_id: int) -> bytes:
    return _ID.pack(file_id)


_local = threading.local()


def _decompressor() -> zstandard.ZstdDecompressor:
    found = getattr(_local, "zstd", None)
    if found is None:
        found = _local.zstd = zstandard.ZstdDecompressor()
    return found


class Store:
    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        try:
            if not readonly:
                path.mkdir(parents=True, exist_ok=True)
            self.env = lmdb.open(str(path), map_size=MAP_SIZE, max_dbs=len(_DBS) + 1, readonly=readonly,
                                 sync=False, metasync=False, readahead=False, max_readers=512,
                                 create=not readonly)
        except lmdb.Error as exc:
            raise IndexError_(f"cannot open the index store at {path}: {exc}") from exc
        self.db = {name: self.env.open_db(name.encode(), create=not readonly)
                   for name in _DBS} if not readonly else self._open_readonly()

    def _open_readonly(self) -> dict[str, Any]:
        found = {}
        with self.env.begin() as txn:
            for name in _DBS:
                try:
                    found[name] = self.env.open_db(name.encode(), txn=txn, create=False)
                except lmdb.NotFoundError:
                    if name not in _OPTIONAL:
                        raise
        return found

    def close(self) -> None:
        self.env.close()

    def sync(self) -> None:
        self.env.sync(True)

    # -- meta ------------------------------------------------------------------------------------

    def meta(self, key: str, default: Any = None) -> Any:
        with self.env.begin(db=self.db["meta"]) as txn:
            raw = txn.get(key.encode())
        return default if raw is None else unpack(raw)

    def check_schema(self) -> None:
        """Raises SchemaMismatch when the store was written by another schema version.

        A v1 store with nothing pending means the same as a v2 store with nothing staged, so it is
        adopted in place rather than rebuilt."""
        found = self.meta("schema")
        if found == 1 and SCHEMA_VERSION == 2 and not self.readonly and self._adopt_v1():
            log.info("index store at %s adopted from schema v1", self.path)
            return
        if found is not None and found != SCHEMA_VERSION:
            raise SchemaMismatch(found)

    def _adopt_v1(self) -> bool:
        try:
            pending = self.env.open_db(b"pending", create=False)
        except lmdb.NotFoundError:
            pending = None
        with self.env.begin(write=True) as txn:
            if pending is not None and txn.stat(pending)["entries"]:
                return False
            if pending is not None:
                txn.drop(pending, delete=True)
            txn.put(b"schema", pack(SCHEMA_VERSION), db=self.db["meta"])
        return True

    # -- writing ---------------------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[WriteBatch]:
        with self.env.begin(write=True) as txn:
            batch = WriteBatch(self, txn)
            yield batch
            batch.finish()

    # -- reading ---------------------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Reader]:
        with self.env.begin() as txn:
            yield Reader(self, txn)


class WriteBatch:
    def __init__(self, store: Store, txn: lmdb.Transaction) -> None:
        self.store = store
        self.txn = txn
        self.db = store.db
        raw = txn.get(b"next_id", db=self.db["meta"])
        self.next_id = unpack(raw) if raw is not None else 1
        self._reserved = self.next_id

    def reserve_ids(self, count: int) -> int:
        """Reserve ``count`` fresh file ids; returns the first."""
        first = self.next_id
        self.next_id += count
        return first

    def put_meta(self, key: str, value: Any) -> None:
        self.txn.put(key.encode(), pack(value), db=self.db["meta"])

    def put_file(self, version: FileVersion) -> list[int]:
        """Stage a new version of a file; returns the ids whose Tantivy documents must be deleted.

        Readers keep the committed version until :meth:`promote`."""
        txn, db, key = self.txn, self.db, id_key(version.file_id)
        pkey = path_key(version.path)
        retire = self._retiring(pkey)
        txn.put(pkey, pack([_record(version), retire]), db=db["staged"])
        txn.delete(pkey, db=db["skipped"])
        txn.put(key, pkey, db=db["ids"])
        txn.put(key, version.content_z, db=db["content"])
        txn.put(key, version.symbols, db=db["symbols"])
        txn.put(key, version.imports, db=db["imports"])
        txn.put(key, version.refs, db=db["refs"])
        txn.put(key, version.chunks, db=db["chunks"])
        txn.put(key, version.facts, db=db["facts"])
        self.next_id = max(self.next_id, version.file_id + 1)
        return retire

    def delete_path(self, path: str) -> list[int]:
        """Stage the removal of a file; returns the ids whose Tantivy documents must be deleted."""
        txn, db = self.txn, self.db
        pkey = path_key(path)
        raw = txn.get(pkey, db=db["staged"])
        if raw is not None and unpack(raw)[0] is None:
            return list(unpack(raw)[1])  # already staged for removal
        if raw is None and txn.get(pkey, db=db["files"]) is None:
            return []
        retire = self._retiring(pkey)
        txn.put(pkey, pack([None, retire]), db=db["staged"])
        return retire

    def _retiring(self, pkey: bytes) -> list[int]:
        """The versions of a path that a new staged entry replaces: the committed one and any staged one."""
        raw = self.txn.get(pkey, db=self.db["staged"])
        if raw is not None:
            record, retire = unpack(raw)
            return [*retire, record[0]] if record is not None else list(retire)
        committed = self.txn.get(pkey, db=self.db["files"])
        return [] if committed is None else [unpack(committed)[0]]

    def promote(self, paths: Iterable[str]) -> int:
        """Make the staged entries of ``paths`` the committed ones, once Tantivy has committed them.

        One transaction: readers see either every old version or every new one. Returns how many."""
        txn, db = self.txn, self.db
        done = 0
        for path in paths:
            pkey = path_key(path)
            raw = txn.get(pkey, db=db["staged"])
            if raw is None:
                continue
            record, retire = unpack(raw)
            if record is None:
                txn.delete(pkey, db=db["files"])
            else:
                txn.put(pkey, pack(record), db=db["files"])
            for file_id in retire:
                if record is None or file_id != record[0]:
                    key = id_key(file_id)
                    for name in _DATA:
                        txn.delete(key, db=db[name])
            txn.delete(pkey, db=db["staged"])
            done += 1
        if done:
            raw_generation = txn.get(b"generation", db=db["meta"])
            self.put_meta("generation", (unpack(raw_generation) if raw_generation else 0) + 1)
        return done

    def put_skipped(self, path: str, reason: str, size: int, mtime_ns: int) -> None:
        self.delete_path(path)
        self.txn.put(path_key(path), pack([reason, size, mtime_ns]), db=self.db["skipped"])

    def forget_skipped(self, path: str) -> None:
        self.txn.delete(path_key(path), db=self.db["skipped"])

    def touch(self, path: str, mtime_ns: int) -> None:
        """Record a new mtime for a file whose content did not change (its newest version's record)."""
        pkey = path_key(path)
        raw = self.txn.get(pkey, db=self.db["staged"])
        if raw is not None:
            record, retire = unpack(raw)
            if record is not None:
                record[2] = mtime_ns
                self.txn.put(pkey, pack([record, retire]), db=self.db["staged"])
            return
        raw = self.txn.get(pkey, db=self.db["files"])
        if raw is not None:
            record = unpack(raw)
            record[2] = mtime_ns
            self.txn.put(pkey, pack(record), db=self.db["files"])

    def finish(self) -> None:
        if self.next_id != self._reserved:
            self.put_meta("next_id", self.next_id)
        self.put_meta("schema", SCHEMA_VERSION)


@dataclass(frozen=True, slots=True)
class Staged:
    """A path's change waiting for a Tantivy commit: its new version (None: a removal) and the ids
    of the versions it replaces, whose documents Tantivy must drop."""

    path: str
    version: FileInfo | None
    retire: tuple[int, ...]


class Reader:
    """Reads within one LMDB read transaction: a consistent snapshot of the committed state."""

    def __init__(self, store: Store, txn: lmdb.Transaction) -> None:
        self.txn = txn
        self.db = store.db

    def meta(self, key: str, default: Any = None) -> Any:
        raw = self.txn.get(key.encode(), db=self.db["meta"])
        return default if raw is None else unpack(raw)

    def generation(self) -> int:
        """How many promotions this store has seen: moves whenever the committed state does."""
        raw = self.txn.get(b"generation", db=self.db["meta"])
        return 0 if raw is None else int(unpack(raw))

    def states(self) -> dict[str, FileState]:
        """Each path's newest version, staged or committed: what a writer compares the disk with."""
        out = {}
        with self.txn.cursor(db=self.db["files"]) as cursor:
            for key, raw in cursor:
                record = unpack(raw)
                out[key_path(key)] = FileState(record[0], record[1], record[2], record[3])
        with self.txn.cursor(db=self.db["staged"]) as cursor:
            for key, raw in cursor:
                record = unpack(raw)[0]
                if record is None:
                    out.pop(key_path(key), None)
                else:
                    out[key_path(key)] = FileState(record[0], record[1], record[2], record[3])
        return out

    def skipped(self) -> dict[str, tuple[Any, ...]]:
        with self.txn.cursor(db=self.db["skipped"]) as cursor:
            return {key_path(key): tuple(unpack(raw)) for key, raw in cursor}

    def staged(self) -> dict[str, Staged]:
        """Every change waiting for a Tantivy commit, by path."""
        out = {}
        with self.txn.cursor(db=self.db["staged"]) as cursor:
            for key, raw in cursor:
                path = key_path(key)
                record, retire = unpack(raw)
                out[path] = Staged(path, None if record is None else _file_info(path, record), tuple(retire))
        return out

    def file(self, path: str) -> FileInfo | None:
        """The committed version of ``path``."""
        raw = self.txn.get(path_key(path), db=self.db["files"])
        return None if raw is None else _file_info(path, unpack(raw))

    def files(self) -> Iterator[FileInfo]:
        """Every committed file."""
        with self.txn.cursor(db=self.db["files"]) as cursor:
            for key, raw in cursor:
                yield _file_info(key_path(key), unpack(raw))

    def path_of(self, file_id: int) -> str | None:
        """The path of a version whose data is kept: committed, staged, or replaced but not yet retired.

        A Tantivy hit on any of these is good: its documents were committed, its data is here."""
        raw = self.txn.get(id_key(file_id), db=self.db["ids"])
        return None if raw is None else key_path(raw)

    def content(self, file_id: int) -> bytes | None:
        raw = self.txn.get(id_key(file_id), db=self.db["content"])
        return None if raw is None else _decompressor().decompress(raw)

    def raw_symbols(self, file_id: int) -> list[list[Any]]:
        raw = self.txn.get(id_key(file_id), db=self.db["symbols"])
        return [] if raw is None else unpack(raw)

    def symbols(self, file_id: int) -> list[Symbol]:
        return [to_symbol(s) for s in self.raw_symbols(file_id)]

    def symbol(self, file_id: int, index: int) -> Symbol | None:
        found = self.raw_symbols(file_id)
        return to_symbol(found[index]) if 0 <= index < len(found) else None

    def imports(self, file_id: int) -> list[Import]:
        raw = self.txn.get(id_key(file_id), db=self.db["imports"])
        return [] if raw is None else [Import(m, tuple(n), a, ln) for m, n, a, ln in unpack(raw)]

    def raw_refs(self, file_id: int) -> tuple[list[str], bytes]:
        raw = self.txn.get(id_key(file_id), db=self.db["refs"])
        if raw is None:
            return [], b""
        names, packed = unpack(raw)
        return names, packed

    def raw_facts(self, file_id: int) -> list[Any] | None:
        """The graph facts record its parsing worker made, None for a version stored without one."""
        db = self.db.get("facts")
        raw = None if db is None else self.txn.get(id_key(file_id), db=db)
        return None if raw is None else unpack(raw)

    def raw_chunks(self, file_id: int) -> list[list[Any]]:
        raw = self.txn.get(id_key(file_id), db=self.db["chunks"])
        return [] if raw is None else unpack(raw)

    def chunks(self, file_id: int) -> list[Chunk]:
        return [Chunk(*c) for c in self.raw_chunks(file_id)]

    def count(self, db: str) -> int:
        return int(self.txn.stat(self.db[db])["entries"])


def _record(version: FileVersion) -> list[Any]:
    return [version.file_id, version.size, version.mtime_ns, version.content_hash, version.language,
            version.status, version.symbol_count, version.chunk_count, time.time(), version.error_count,
            [[c.cell, c.start_line, c.line_count] for c in version.cells]]


def to_symbol(raw: list[Any]) -> Symbol:
    (name, kind, container, sl, sc, el, ec, nsl, nsc, nel, nec, sb, eb, signature, doc, depth) = raw
    return Symbol(name, kind, container, Span(sl, sc, el, ec), Span(nsl, nsc, nel, nec), signature, doc,
                  depth, sb, eb)


def _file_info(path: str, record: list[Any]) -> FileInfo:
    (file_id, size, mtime_ns, content_hash, language, status, n_symbols, n_chunks, indexed_at,
     _errors, cells) = record
    return FileInfo(path, file_id, language, size, mtime_ns, content_hash, status, n_symbols, n_chunks,
                    indexed_at, tuple(CellSpan(*c) for c in cells))
