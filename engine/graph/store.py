"""The code graph's own LMDB environment (``<index_dir>/graph``), kept current from the engine index.

Named databases (``\\0`` separates a name or key from a path in composite keys, so that every entry
about one name is a single prefix scan):

    meta    fingerprint of the engine state last synced, generation counter
    files   path -> file id of the version the graph has processed
    facts   path -> FileFacts record (msgpack)
    defs    name \\0 path -> weight of the definition (1 for functions, classes...; less for variables)
    uses    name \\0 path -> number of uses of name in path
    calls   name \\0 path -> call sites [[line, caller], ...]
    imps    candidate key \\0 path -> [[line, module], ...]
    edges   path -> [[target path, weight], ...]   file-level dependencies, for ranking
    tokens  path -> [file id, tokenizer, count]    a file's token count, cached for context budgets
    dirty   path -> b""                            files whose edges wait to be recomputed

Everything is keyed by *path*, not file id: a new version of a file with the same definitions leaves
every other file's edges untouched, so an edit costs one file's work (see :func:`sync`).
"""

from __future__ import annotations

import fcntl
import logging
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import lmdb
import msgpack

from ..errors import IndexError_
from ..languages.modules import key_matches, keys_matching
from .facts import LOCAL_NAMES, FileFacts, file_facts

if TYPE_CHECKING:
    from ..workspace import Workspace

log = logging.getLogger(__name__)

SCHEMA = 3  # bump when a record's layout changes: the graph is then rebuilt from the index
MAP_SIZE = 1 << 34
MAX_KEY = 500
# A name defined in more files than this says nothing about which one a use means (`get`, `run`).
MAX_DEFINERS = 12
IMPORT_WEIGHT = 2.0
CALL_FACTOR = 1.5
_DBS = ("meta", "files", "facts", "defs", "uses", "calls", "imps", "edges", "tokens", "dirty")
SYNC_BATCH = 500  # files per graph transaction: LMDB holds a transaction's dirty pages in memory
MAX_CACHED_NAMES = 200_000  # definers looked up while recomputing edges, dropped past this many

GraphProgress = Callable[[str, int, int], None]  # (phase, done, total)

pack = msgpack.packb
unpack = msgpack.unpackb


def _key(name: str, path: str) -> bytes | None:
    key = name.encode("utf-8", "surrogateescape") + b"\0" + path.encode("utf-8", "surrogateescape")
    return key if len(key) <= MAX_KEY else None


def _pkey(path: str) -> bytes:
    return path.encode("utf-8", "surrogateescape")


def _kpath(raw: bytes) -> str:
    return bytes(raw).decode("utf-8", "surrogateescape")


@dataclass(frozen=True, slots=True)
class SyncSummary:
    added: int
    removed: int
    edges_recomputed: int
    seconds: float
    generation: int


class PathIndex:
    """Resolves import candidate keys against a set of paths (exact, suffix and folder-wildcard keys)."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = set(paths)
        self.by_suffix: dict[str, list[str]] = defaultdict(list)
        self.by_folder: dict[str, list[str]] = defaultdict(list)
        for path in sorted(paths):
            parts = path.split("/")
            for i in range(len(parts)):
                self.by_suffix["/".join(parts[i:])].append(path)
            for i in range(len(parts) - 1):
                self.by_folder["/".join(parts[i:-1])].append(path)

    def resolve(self, key: str, importer: str) -> list[str]:
        """Paths a key denotes, nearest to the importer first; folder wildcards give every file in it."""
        body = key[1:]
        if key[0] == "=":
            return [body] if body in self.paths else []
        if body.endswith("/*"):
            return [p for p in self.by_folder.get(body[:-2], ()) if p != importer]
        found = [p for p in self.by_suffix.get(body, ()) if p != importer]
        if len(found) > 1:
            found.sort(key=lambda p: (-_common_prefix(p, importer), len(p), p))
            return found[:1]
        return found


def _common_prefix(a: str, b: str) -> int:
    count = 0
    for x, y in zip(a.split("/"), b.split("/"), strict=False):
        if x != y:
            break
        count += 1
    return count


class GraphStore:
    """One workspace's graph environment. Use :meth:`open`; one instance per path per process."""

    _open: ClassVar[dict[str, GraphStore]] = {}
    _open_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.mkdir(parents=True, exist_ok=True)
            self.env = lmdb.open(str(path), map_size=MAP_SIZE, max_dbs=len(_DBS), sync=False, metasync=False,
                                 readahead=False, max_readers=256)
        except (lmdb.Error, OSError) as exc:
            raise IndexError_(f"cannot open the code graph at {path}: {exc}") from exc
        self.db = {name: self.env.open_db(name.encode()) for name in _DBS}
        self._cache: dict[str, Any] = {}
        self._cache_lock = threading.Lock()

    @classmethod
    def open(cls, path: Path) -> GraphStore:
        key = str(path.resolve())
        with cls._open_lock:
            found = cls._open.get(key)
            if found is None:
                found = cls._open[key] = cls(path)
            return found

    @classmethod
    def for_workspace(cls, ws: Workspace) -> GraphStore:
        return cls.open(ws.index_dir / "graph")

    def close(self) -> None:
        with self._open_lock:
            self._open.pop(str(self.path.resolve()), None)
        self.env.close()

    # -- reading ---------------------------------------------------------------------------------

    def meta(self, key: str, default: Any = None) -> Any:
        with self.env.begin(db=self.db["meta"]) as txn:
            raw = txn.get(key.encode())
        return default if raw is None else unpack(raw)

    @property
    def generation(self) -> int:
        return int(self.meta("generation", 0))

    def facts(self, path: str) -> FileFacts | None:
        with self.env.begin(db=self.db["facts"]) as txn:
            raw = txn.get(_pkey(path))
        return None if raw is None else FileFacts.from_record(path, unpack(raw))

    def paths(self) -> list[str]:
        with self.env.begin(db=self.db["files"]) as txn, txn.cursor() as cursor:
            return [_kpath(k) for k in cursor.iternext(keys=True, values=False)]

    def scan(self, db: str, name: str) -> Iterator[tuple[str, Any]]:
        """(path, value) of every ``name \\0 path`` entry of ``db``."""
        prefix = name.encode("utf-8", "surrogateescape") + b"\0"
        with self.env.begin(db=self.db[db]) as txn, txn.cursor() as cursor:
            if not cursor.set_range(prefix):
                return
            for key, value in cursor:
                if not key.startswith(prefix):
                    break
                yield _kpath(key[len(prefix):]), unpack(value)

    def edges(self) -> dict[str, list[tuple[str, float]]]:
        with self.env.begin(db=self.db["edges"]) as txn, txn.cursor() as cursor:
            return {_kpath(k): [(t, w) for t, w in unpack(v)] for k, v in cursor}

    def edges_of(self, path: str) -> list[tuple[str, float]]:
        with self.env.begin(db=self.db["edges"]) as txn:
            raw = txn.get(_pkey(path))
        return [] if raw is None else [(t, w) for t, w in unpack(raw)]

    def token_counts(self, files: dict[str, int], tokenizer: str) -> dict[str, int]:
        """Cached token counts of file versions (path -> file id), for those that have one."""
        out = {}
        with self.env.begin(db=self.db["tokens"]) as txn:
            for path, file_id in files.items():
                raw = txn.get(_pkey(path))
                if raw is not None:
                    cached_id, cached_tokenizer, count = unpack(raw)
                    if cached_id == file_id and cached_tokenizer == tokenizer:
                        out[path] = count
        return out

    def put_token_counts(self, counts: dict[str, tuple[int, int]], tokenizer: str) -> None:
        """Remember counts (path -> (file id, count)); a later version of the file misses the cache."""
        if not counts:
            return
        with self.env.begin(write=True, db=self.db["tokens"]) as txn:
            for path, (file_id, count) in counts.items():
                txn.put(_pkey(path), pack([file_id, tokenizer, count]))

    def cached(self, name: str, build: Any) -> Any:
        """A value derived from the whole graph (the ranking matrix), rebuilt when the graph changes."""
        generation = self.generation
        with self._cache_lock:
            found = self._cache.get(name)
            if found is not None and found[0] == generation:
                return found[1]
        value = build()
        with self._cache_lock:
            self._cache[name] = (generation, value)
        return value

    def path_index(self) -> PathIndex:
        return self.cached("paths", lambda: PathIndex(self.paths()))  # type: ignore[no-any-return]

    # -- syncing ---------------------------------------------------------------------------------

    def is_current(self, ws: Workspace) -> bool:
        return bool(self.meta("fingerprint") == _fingerprint(ws))

    def sync(self, ws: Workspace, progress: GraphProgress | None = None, *, edges: bool = True) -> SyncSummary:
        """Bring the graph up to date with the engine index's committed state.

        With ``edges=False`` only the facts and name tables (what definitions, callers, callees and
        imports read) are brought up to date; the file edges that ranking reads are left marked for
        :meth:`recompute_edges`, which the first ranking query runs (``CodeGraph.file_graph``).

        Cheap when nothing changed (two small reads). Each file's facts were made by the parsing worker
        that indexed it and are read from the engine's LMDB, so this never re-reads a file. Work goes in
        transactions of ``SYNC_BATCH`` files, which bounds memory on large workspaces; the files whose
        edges must be recomputed are marked (``dirty``) in the transaction that changes their inputs,
        so a sync cut short resumes where it stopped. A file lock serialises syncs across processes.
        """
        started = time.perf_counter()
        fingerprint = _fingerprint(ws)
        if self.meta("fingerprint") == fingerprint:
            recomputed = self.recompute_edges(ws, progress) if edges else 0
            return SyncSummary(0, 0, recomputed, time.perf_counter() - started, self.generation)
        report = progress or (lambda phase, done, total: None)
        with _sync_lock(self.path), ws.store.read() as reader:
            if self.meta("fingerprint") == fingerprint:  # another process synced while we waited
                return SyncSummary(0, 0, 0, 0.0, self.generation)
            with self.env.begin(write=True) as txn:
                if txn.get(b"schema", db=self.db["meta"]) != pack(SCHEMA):
                    for name in _DBS:
                        txn.drop(self.db[name], delete=False)
                    txn.put(b"schema", pack(SCHEMA), db=self.db["meta"])
            live = {info.path: (info.file_id, info.language) for info in reader.files()}
            with self.env.begin(db=self.db["files"]) as txn:
                known = {_kpath(k): unpack(v) for k, v in txn.cursor()}
            gone = [p for p, fid in known.items() if live.get(p, (None,))[0] != fid]
            new = [p for p, (fid, _lang) in live.items() if known.get(p) != fid]
            # No edges computed yet (a first index, checkpoint after checkpoint): every file is marked for
            # them when added, so no one's users or importers need looking up.
            with self.env.begin(db=self.db["edges"]) as txn:
                cold = not txn.stat(self.db["edges"])["entries"]
            total = len(gone) + len(new)
            done = 0
            for batch_gone, batch_new in _batched(gone, new, SYNC_BATCH):
                with self.env.begin(write=True) as txn:
                    writer = _Writer(self, txn)
                    dirty: set[str] = set()
                    changed_names: set[str] = set()
                    old_defs: dict[str, set[str]] = {}
                    for path in batch_gone:
                        old = writer.remove(path)
                        if old is not None:
                            old_defs[path] = set(old.defines)
                    for path in batch_new:
                        file_id, language = live[path]
                        record = reader.raw_facts(file_id)
                        if record is None:  # a version indexed before workers made facts
                            record = file_facts(reader, path, file_id, language).to_record()
                        writer.add(path, record)
                        dirty.add(path)
                        before = old_defs.pop(path, None)
                        if not cold:
                            defined = set(record[2])
                            changed_names |= defined ^ before if before is not None else defined
                    if not cold:
                        for names in old_defs.values():
                            changed_names |= names
                        for name in changed_names:
                            dirty.update(writer.users(name))
                        for path in batch_gone + batch_new:
                            if (path in live) != (path in known):  # appeared or disappeared
                                dirty.update(writer.importers(path))
                    for path in dirty:
                        txn.put(_pkey(path), b"", db=self.db["dirty"])
                done += len(batch_gone) + len(batch_new)
                report("graph facts", done, total)
            recomputed = self._recompute_dirty(list(live), report) if edges else 0
            with self.env.begin(write=True) as txn:
                generation = int(unpack(txn.get(b"generation", db=self.db["meta"]) or pack(0))) + 1
                txn.put(b"generation", pack(generation), db=self.db["meta"])
                txn.put(b"fingerprint", pack(fingerprint), db=self.db["meta"])
                txn.put(b"synced_at", pack(time.time()), db=self.db["meta"])
        seconds = time.perf_counter() - started
        log.info("code graph: %d added, %d removed, %d edge lists in %.2fs", len(new), len(gone), recomputed,
                 seconds)
        return SyncSummary(len(new), len(gone), recomputed, seconds, generation)

    def edges_pending(self) -> int:
        """How many files' edges wait for :meth:`recompute_edges`."""
        with self.env.begin(db=self.db["dirty"]) as txn:
            return int(txn.stat(self.db["dirty"])["entries"])

    def recompute_edges(self, ws: Workspace, progress: GraphProgress | None = None) -> int:
        """Compute the file edges left marked by a sync; returns how many files' edges were computed."""
        if not self.edges_pending():
            return 0
        started = time.perf_counter()
        with _sync_lock(self.path):
            with ws.store.read() as reader:
                live = [info.path for info in reader.files()]
            done = self._recompute_dirty(live, progress or (lambda phase, done, total: None))
            if done:
                with self.env.begin(write=True) as txn:
                    generation = int(unpack(txn.get(b"generation", db=self.db["meta"]) or pack(0))) + 1
                    txn.put(b"generation", pack(generation), db=self.db["meta"])
        log.info("code graph: edges of %d file(s) in %.2fs", done, time.perf_counter() - started)
        return done

    def _recompute_dirty(self, live: list[str], report: GraphProgress) -> int:
        """Edges of every file marked dirty, ``SYNC_BATCH`` files per transaction."""
        with self.env.begin(db=self.db["dirty"]) as txn:
            total = int(txn.stat(self.db["dirty"])["entries"])
        if not total:
            return 0
        paths = PathIndex(live)
        present = paths.paths
        definers: dict[str, list[tuple[str, Any]]] = {}
        done = 0
        while True:
            with self.env.begin(write=True) as txn:
                with txn.cursor(db=self.db["dirty"]) as cursor:
                    batch = [_kpath(k) for k in islice(cursor.iternext(values=False), SYNC_BATCH)]
                if not batch:
                    break
                writer = _Writer(self, txn, definers)
                for path in batch:
                    if path in present:
                        writer.compute_edges(path, paths)
                    txn.delete(_pkey(path), db=self.db["dirty"])
                if len(definers) > MAX_CACHED_NAMES:
                    definers.clear()
            done += len(batch)
            report("graph edges", done, total)
        return done


@contextmanager
def _sync_lock(folder: Path) -> Iterator[None]:
    with open(folder / "sync.lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _batched(gone: list[str], new: list[str], size: int) -> Iterator[tuple[list[str], list[str]]]:
    """Removals and additions in slices of ``size``; a path's removal comes with its new version."""
    new_set = set(new)
    alone = [p for p in gone if p not in new_set]
    replaced = set(gone) & new_set
    for i in range(0, len(alone), size):
        yield alone[i:i + size], []
    for i in range(0, len(new), size):
        chunk = new[i:i + size]
        yield [p for p in chunk if p in replaced], chunk


def _fingerprint(ws: Workspace) -> list[Any]:
    """Changes whenever the set of committed (path, file id) changes: the index's ``generation`` moves
    with every promotion of staged versions (``next_id`` moves when they are staged, before readers see
    them). The index's creation time tells a rebuilt index from the old one, and the graph's own schema
    makes a graph of another layout rebuild."""
    with ws.store.read() as reader:
        return [SCHEMA, reader.meta("created_at"), reader.meta("next_id", 1), reader.count("files"),
                reader.generation()]


class _Writer:
    """The write side of one sync transaction."""

    def __init__(self, store: GraphStore, txn: lmdb.Transaction,
                 definers: dict[str, list[tuple[str, Any]]] | None = None) -> None:
        self.txn = txn
        self.db = store.db
        self._definers: dict[str, list[tuple[str, Any]]] = {} if definers is None else definers

    def remove(self, path: str) -> FileFacts | None:
        txn, db = self.txn, self.db
        pkey = _pkey(path)
        raw = txn.get(pkey, db=db["facts"])
        txn.delete(pkey, db=db["files"])
        txn.delete(pkey, db=db["edges"])
        if raw is None:
            return None
        facts = FileFacts.from_record(path, unpack(raw))
        txn.delete(pkey, db=db["facts"])
        for table, names in (("defs", facts.defines), ("uses", facts.uses), ("calls", facts.calls)):
            for name in names:
                key = _key(name, path)
                if key is not None:
                    txn.delete(key, db=db[table])
        for key_name in {k for k, _line, _module in facts.imports}:
            key = _key(key_name, path)
            if key is not None:
                txn.delete(key, db=db["imps"])
        self._definers.clear()
        return facts

    def add(self, path: str, record: list[Any]) -> None:
        """Store one file's facts (a :meth:`FileFacts.to_record`) and its rows in the name tables."""
        txn, db = self.txn, self.db
        pkey = _pkey(path)
        _file_id, _language, defines, uses, calls, imports = record
        txn.put(pkey, pack(record[0]), db=db["files"])
        txn.put(pkey, pack(record), db=db["facts"])
        tail = b"\0" + pkey
        for table, values in (("defs", defines), ("uses", uses), ("calls", calls)):
            rows = [(key, pack(value)) for name, value in values.items()
                    if len(key := name.encode("utf-8", "surrogateescape") + tail) <= MAX_KEY]
            if rows:
                with txn.cursor(db=db[table]) as cursor:
                    cursor.putmulti(rows)
        grouped: dict[str, list[list[Any]]] = defaultdict(list)
        for key_name, line, module in imports:
            grouped[key_name].append([line, module])
        for key_name, sites in grouped.items():
            key = _key(key_name, path)
            if key is not None:
                txn.put(key, pack(sites), db=db["imps"])
        self._definers.clear()

    def _scan(self, table: str, name: str) -> list[tuple[str, Any]]:
        prefix = name.encode("utf-8", "surrogateescape") + b"\0"
        out = []
        with self.txn.cursor(db=self.db[table]) as cursor:
            if cursor.set_range(prefix):
                for raw, value in cursor:
                    key = bytes(raw)
                    if not key.startswith(prefix):
                        break
                    out.append((_kpath(key[len(prefix):]), unpack(value)))
        return out

    def users(self, name: str) -> list[str]:
        return [path for path, _count in self._scan("uses", name)]

    def definers(self, name: str) -> list[tuple[str, float]]:
        found = self._definers.get(name)
        if found is None:
            found = self._definers[name] = self._scan("defs", name)
        return found

    def importers(self, path: str) -> set[str]:
        out: set[str] = set()
        for key in keys_matching(path):
            for importer, _rows in self._scan("imps", key):
                if key_matches(key, path):
                    out.add(importer)
        return out

    def compute_edges(self, path: str, paths: PathIndex) -> None:
        """Weighted dependencies of ``path``: files defining the names it uses, and files it imports.

        A use of a name counts sqrt(occurrences) (one heavily used helper should not drown the rest),
        split evenly between the files that define it, and less when the definition there is only a
        variable or field; calls count a bit more than mentions; names the file defines itself, names
        defined almost everywhere, and conventional locals (`self`, `i`) say nothing about dependencies.
        """
        raw = self.txn.get(_pkey(path), db=self.db["facts"])
        if raw is None:
            return
        _file_id, _language, defines, uses, calls, imports = unpack(raw)  # FileFacts.to_record()
        weights: dict[str, float] = defaultdict(float)
        for name, count in uses.items():
            if name in defines or name in LOCAL_NAMES or len(name) < 3:
                continue
            definers = self.definers(name)
            if not definers or len(definers) > MAX_DEFINERS:
                continue
            weight = math.sqrt(count) / len(definers) * (CALL_FACTOR if name in calls else 1.0)
            for target, strength in definers:
                if target != path:
                    weights[target] += weight * strength
        for key, _line, _module in imports:
            for target in paths.resolve(key, path):
                weights[target] += IMPORT_WEIGHT
        edges = [[target, round(weight, 4)] for target, weight in sorted(weights.items())]
        self.txn.put(_pkey(path), pack(edges), db=self.db["edges"])


def sync(ws: Workspace) -> SyncSummary:
    """Bring ``ws``'s code graph up to date with its index (the call ``nexus index`` makes at its end)."""
    return GraphStore.for_workspace(ws).sync(ws)
