"""A workspace and its index: the engine's front door for every adapter.

``Workspace.open(root)`` finds (or creates) the index for a folder; ``index()`` builds or updates it;
the query methods read the committed state (the versions Tantivy has committed, through one
:class:`~nexus.engine.snapshot.Snapshot` per query) and are safe to call from several threads at once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import Settings, load_settings, user_cache_dir
from .errors import IndexError_, NotFoundError, WorkspaceError
from .indexer import Indexer, IndexSummary, ProgressCallback
from .languages import expand_language, language_for
from .lock import WriterLock
from .model import Chunk, FileInfo, Import, Reference, Symbol, SymbolHit, TextHit
from .parsing import CALL_BIT
from .search.index import SearchIndex
from .search.names import fuzzy_score
from .settings import IndexSettings
from .snapshot import Snapshot, Snapshots
from .store import SCHEMA_VERSION, Reader, SchemaMismatch, Store
from .walker import Walker
from .worker import Limits, Outcome, build_version, content_hash

log = logging.getLogger(__name__)


def index_dir_for(root: Path, settings: IndexSettings) -> Path:
    """Where the index of ``root`` lives: `<root>/.nexus/index`, or the cache folder keyed by path."""
    if settings.in_workspace:
        return root / ".nexus" / "index"
    base = settings.cache_dir or user_cache_dir()
    digest = hashlib.sha1(os.fsencode(root)).hexdigest()[:16]
    return base / "indexes" / f"{root.name or 'root'}-{digest}"


@dataclass(frozen=True, slots=True)
class IndexStatus:
    root: str
    index_dir: str
    indexed: bool
    files: int
    symbols: int
    chunks: int
    bytes_indexed: int
    size_on_disk: int
    schema_version: int
    created_at: float | None
    updated_at: float | None
    pending: int  # files whose new version (or removal) waits for a search-index commit
    last_run: dict[str, Any] | None
    writer: int | None = None  # PID of the process writing the index now
    interrupted: bool = False  # the last writer stopped (was killed) before its final commit
    last_commit_complete: bool = True  # nothing pending, no run in progress or cut short

    def to_json(self) -> dict[str, Any]:
        return {
            "root": self.root, "indexDir": self.index_dir, "indexed": self.indexed, "files": self.files,
            "symbols": self.symbols, "chunks": self.chunks, "bytesIndexed": self.bytes_indexed,
            "sizeOnDisk": self.size_on_disk, "schemaVersion": self.schema_version,
            "createdAt": self.created_at, "updatedAt": self.updated_at, "pending": self.pending,
            "writer": self.writer, "interrupted": self.interrupted,
            "lastCommitComplete": self.last_commit_complete, "lastRun": self.last_run,
        }


class Workspace:
    def __init__(self, root: Path, settings: Settings, index_settings: IndexSettings, index_dir: Path,
                 store: Store, search: SearchIndex, rebuilt_reason: str) -> None:
        self.root = root
        self.settings = settings
        self.index_settings = index_settings
        self.index_dir = index_dir
        self.store = store
        self.search_index = search
        self.rebuilt_reason = rebuilt_reason
        self.lock = WriterLock(index_dir / "writer.lock", str(root))
        self.snapshots = Snapshots(store, search)
        self._write_mutex = threading.Lock()

    @classmethod
    def open(cls, root: str | os.PathLike[str], settings: Settings | None = None) -> Workspace:
        """Open the index of the folder ``root``, creating it (empty) if needed.

        Raises WorkspaceError when ``root`` is not a readable folder. An index written by another
        schema version is discarded and rebuilt; ``rebuilt_reason`` says so.
        """
        path = Path(root).expanduser()
        if not path.exists():
            raise WorkspaceError(f"{path} does not exist")
        if not path.is_dir():
            raise WorkspaceError(f"{path} is not a folder")
        if not os.access(path, os.R_OK | os.X_OK):
            raise WorkspaceError(f"{path} is not readable")
        real = Path(os.path.realpath(path))
        settings = settings if settings is not None else load_settings(real)
        index_settings = settings.section("index", IndexSettings)
        index_dir = index_dir_for(real, index_settings)
        store, search, reason = _open_stores(index_dir)
        return cls(real, settings, index_settings, index_dir, store, search, reason)

    def close(self) -> None:
        """Close the index; waits for an index run or file update in another thread to finish."""
        with self._write_mutex:
            self.search_index.close_writer()
            self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------------

    def index(self, progress: ProgressCallback | None = None, wait: float = 0.0) -> IndexSummary:
        """Build or update the index. Raises IndexLockedError if another process is writing it."""
        with self._write_mutex:
            self.lock.acquire(wait)
            try:
                return Indexer(self, progress).run()
            finally:
                self.search_index.close_writer()
                self.lock.release()

    def update_file(self, path: str, text: str | None = None, wait: float = 5.0) -> FileInfo | None:
        """Re-index one file from ``text`` (an editor's unsaved buffer) or, if None, from disk.

        Returns the new record, or None when the file is left out (ignored, deleted, binary, too large...).
        The change is searchable when this returns.
        """
        rel = self.relative(path)
        language = language_for(rel)
        if language is None:
            raise WorkspaceError(f"{rel}: not a language Nexus indexes")
        why = Walker(self.root, self.index_settings.max_file_size, self.index_settings.exclude).excluded(rel)
        if why is not None:
            log.debug("%s not indexed: %s", rel, why)
            return None
        absolute = self.root / rel
        limits = Limits(self.index_settings.max_file_size, self.index_settings.max_average_line)
        if text is None:
            try:
                data = absolute.read_bytes()
                mtime_ns = absolute.stat().st_mtime_ns
            except FileNotFoundError:
                self.remove_file(rel, wait)
                return None
            except OSError as exc:
                raise WorkspaceError(f"{rel}: {exc.strerror}") from exc
        else:
            data, mtime_ns = text.encode("utf-8", "surrogateescape"), 0  # 0: re-read from disk next run
        with self._write_mutex:
            self.lock.acquire(wait)
            try:
                file_id = self.store.meta("next_id", 1)
                result = build_version(rel, file_id, language, data, content_hash(data), mtime_ns, limits)
                with self.store.write() as batch:
                    if isinstance(result, Outcome):
                        old = batch.delete_path(rel)
                        batch.put_skipped(rel, result.reason, result.size, result.mtime_ns)
                    else:
                        old = batch.put_file(result)
                for replaced in old:
                    self.search_index.delete_file(replaced)
                if not isinstance(result, Outcome):
                    self.search_index.add(result.docs)
                self.search_index.commit()
                with self.store.write() as batch:
                    batch.promote([rel])
                self._sync_graph()
            finally:
                self.search_index.close_writer()  # Tantivy's own lock must not outlive ours
                self.lock.release()
        return None if isinstance(result, Outcome) else self.file_info(rel)

    def _sync_graph(self) -> None:
        """The code graph's facts follow an editor's change at once (one file's worth of work); the
        ranking edges it moves wait for the next ranking query."""
        from .graph.store import GraphStore

        GraphStore.for_workspace(self).sync(self, edges=False)

    def remove_file(self, path: str, wait: float = 5.0) -> None:
        rel = self.relative(path)
        with self._write_mutex:
            self.lock.acquire(wait)
            try:
                with self.store.write() as batch:
                    old = batch.delete_path(rel)
                if old:
                    for replaced in old:
                        self.search_index.delete_file(replaced)
                    self.search_index.commit()
                    with self.store.write() as batch:
                        batch.promote([rel])
                    self._sync_graph()
            finally:
                self.search_index.close_writer()
                self.lock.release()

    # -- reading ---------------------------------------------------------------------------------

    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """An LMDB snapshot and a Tantivy searcher that agree: every hit resolves to kept data."""
        with self.snapshots.open() as snap:
            yield snap

    def relative(self, path: str | os.PathLike[str]) -> str:
        """The workspace-relative '/'-path of ``path``; raises WorkspaceError if it is outside."""
        candidate = Path(path)
        if candidate.is_absolute():
            real = Path(os.path.realpath(candidate))
            if real != self.root and not real.is_relative_to(self.root):
                raise WorkspaceError(f"{path} is outside the workspace {self.root}")
            return real.relative_to(self.root).as_posix()
        parts = candidate.as_posix().split("/")
        if ".." in parts:
            return self.relative(self.root / candidate)
        return candidate.as_posix().removeprefix("./")

    def file_info(self, path: str) -> FileInfo | None:
        with self.store.read() as reader:
            return reader.file(self.relative(path))

    def files(self) -> list[FileInfo]:
        with self.store.read() as reader:
            return list(reader.files())

    def _require(self, reader: Reader, path: str) -> FileInfo:
        info = reader.file(self.relative(path))
        if info is None:
            raise NotFoundError(f"{path} is not in the index")
        return info

    def text(self, path: str) -> str:
        """The indexed text of a file (for a notebook: its code cells joined)."""
        with self.store.read() as reader:
            info = self._require(reader, path)
            content = reader.content(info.file_id)
        return (content or b"").decode("utf-8", "replace")

    def symbols(self, path: str) -> list[Symbol]:
        with self.store.read() as reader:
            return reader.symbols(self._require(reader, path).file_id)

    def imports(self, path: str) -> list[Import]:
        with self.store.read() as reader:
            return reader.imports(self._require(reader, path).file_id)

    def chunks(self, path: str) -> list[Chunk]:
        with self.store.read() as reader:
            return reader.chunks(self._require(reader, path).file_id)

    def references_in(self, path: str, name: str | None = None) -> list[Reference]:
        """Identifier occurrences in one file (all, or those spelled ``name``), in file order."""
        with self.store.read() as reader:
            info = self._require(reader, path)
            names, packed = reader.raw_refs(info.file_id)
            content = reader.content(info.file_id) or b""
        return _decode_refs(names, packed, content, name)

    def definitions(self, name: str) -> list[tuple[str, Symbol]]:
        """Every symbol called exactly ``name``, with its file."""
        out: list[tuple[str, Symbol]] = []
        with self.snapshot() as snap:
            reader = snap.reader
            for hit in self.search_index.symbols_named(name, searcher=snap.searcher):
                if hit.display[0] != name:
                    continue
                path = reader.path_of(hit.file_id)
                symbol = reader.symbol(hit.file_id, hit.item) if path is not None else None
                if path is not None and symbol is not None:
                    out.append((path, symbol))
        return sorted(out, key=lambda item: (item[0], item[1].span.start_line))

    def references(self, name: str, limit_files: int = 10_000) -> list[tuple[str, Reference]]:
        """Every occurrence of the identifier ``name`` in the workspace, by file then position."""
        out: list[tuple[str, Reference]] = []
        with self.snapshot() as snap:
            reader = snap.reader
            for file_id in self.search_index.files_referencing(name, limit_files, snap.searcher):
                path = reader.path_of(file_id)
                if path is None:
                    continue  # only when promotions raced the snapshot (see engine.snapshot)
                names, packed = reader.raw_refs(file_id)
                content = reader.content(file_id) or b""
                out.extend((path, ref) for ref in _decode_refs(names, packed, content, name))
        return sorted(out, key=lambda item: (item[0], item[1].line, item[1].start_col))

    def search_symbols(self, query: str, limit: int = 20, languages: tuple[str, ...] = (),
                       kinds: tuple[str, ...] = ()) -> list[SymbolHit]:
        """Fuzzy symbol search (prefixes, camelCase/snake_case parts, abbreviations, typos), ranked."""
        query = query.strip()
        if not query:
            return []
        grammars = _grammars(languages)
        hits = []
        with self.snapshot() as snap:
            reader = snap.reader
            for hit in self.search_index.search_symbols(query, max(limit * 2, 40), grammars, kinds, snap.searcher):
                name, kind, container, line, col, signature, language = hit.display
                match = fuzzy_score(query, name)
                if match <= 0:
                    continue
                path = reader.path_of(hit.file_id)
                if path is None:
                    continue  # only when promotions raced the snapshot (see engine.snapshot)
                depth = container.count(".") + container.count("::") + (1 if container else 0)
                score = match + min(hit.score, 40.0) * 0.25 + _KIND_BONUS.get(kind, 0.0) - depth
                hits.append(SymbolHit(path, name, kind, container, line, col, signature, language,
                                      round(score, 3)))
        hits.sort(key=lambda h: (-h.score, h.path, h.line))
        return hits[:limit]

    def search_text(self, query: str, limit: int = 20, languages: tuple[str, ...] = ()) -> list[TextHit]:
        """BM25 over chunks, with defined names and paths boosted; one hit per chunk."""
        if not query.strip():
            return []
        grammars = _grammars(languages)
        hits = []
        with self.snapshot() as snap:
            reader = snap.reader
            for hit in self.search_index.search_text(query, limit, grammars, snap.searcher):
                path = reader.path_of(hit.file_id)
                if path is None:
                    continue
                start_line, end_line, symbol, language = hit.display
                hits.append(TextHit(path, start_line, end_line, symbol, language, round(hit.score, 4),
                                    _preview(reader, hit.file_id, hit.item, query)))
        return hits

    def status(self) -> IndexStatus:
        """What the index holds (its committed state) and what is in flight.

        ``pending`` counts files staged but not yet committed to the search index (readers still see
        their previous versions); ``writer`` names the process writing now; with no writer, pending
        files or a run marked running mean the last writer was cut short (the next run commits them).
        """
        writer = self.lock.holder()  # before the snapshot, so a writer that finishes in between is
        files = symbols = chunks = size = 0  # seen as running rather than as interrupted
        with self.store.read() as reader:
            for info in reader.files():
                files += 1
                symbols += info.symbols
                chunks += info.chunks
                size += info.size
            pending = reader.count("staged")
            meta = {key: reader.meta(key) for key in ("updated_at", "created_at", "schema", "last_run", "run")}
        running = (meta["run"] or {}).get("state") == "running"
        interrupted = writer is None and (running or pending > 0)
        return IndexStatus(
            str(self.root), str(self.index_dir), meta["updated_at"] is not None, files, symbols, chunks, size,
            _disk_usage(self.index_dir), meta["schema"] or SCHEMA_VERSION, meta["created_at"],
            meta["updated_at"], pending, meta["last_run"], writer, interrupted,
            pending == 0 and not running,
        )

    def consistency(self) -> tuple[set[int], set[int]]:
        """(ids of the committed versions in LMDB, ids with committed Tantivy documents); equal when
        nothing is staged."""
        with self.store.read() as reader:
            live = {info.file_id for info in reader.files()}
        self.search_index.reload()
        return live, self.search_index.live_file_ids()


_KIND_BONUS = {"class": 3.0, "interface": 3.0, "struct": 3.0, "function": 2.5, "method": 2.0, "enum": 2.0,
               "constructor": 1.0, "type": 2.0, "namespace": 1.0}


def _grammars(languages: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for language in languages:
        try:
            out.extend(expand_language(language))
        except ValueError as exc:
            raise WorkspaceError(str(exc)) from exc
    return tuple(dict.fromkeys(out))


def _decode_refs(names: list[str], packed: bytes, content: bytes, only: str | None) -> list[Reference]:
    from array import array
    from bisect import bisect_right

    from .parsing.chunks import line_starts_of

    triples = array("I")
    triples.frombytes(packed)
    wanted = None
    if only is not None:
        try:
            wanted = names.index(only)
        except ValueError:
            return []
    line_starts = line_starts_of(content)
    out = []
    mask = CALL_BIT - 1
    for i in range(0, len(triples), 3):
        index = triples[i] & mask
        if wanted is not None and index != wanted:
            continue
        start, end = triples[i + 1], triples[i + 2]
        line = bisect_right(line_starts, start) - 1
        out.append(Reference(names[index], line, start - line_starts[line], end - line_starts[line]))
    out.sort(key=lambda r: (r.line, r.start_col))
    return out


def _preview(reader: Any, file_id: int, chunk_index: int, query: str) -> str:
    """The chunk's first line mentioning a query word, else its first line."""
    chunks = reader.raw_chunks(file_id)
    if not 0 <= chunk_index < len(chunks):
        return ""
    start, end = chunks[chunk_index][2], chunks[chunk_index][3]
    text = (reader.content(file_id) or b"")[start:end].decode("utf-8", "replace")
    words = [w.lower() for w in query.split() if len(w) > 1]
    lines = text.splitlines()
    for line in lines:
        lowered = line.lower()
        if any(w in lowered for w in words):
            return line.strip()[:200]
    return lines[0].strip()[:200] if lines else ""


def _disk_usage(path: Path) -> int:
    total = 0
    for directory, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(directory, name)).st_size
            except OSError:
                continue
    return total


def _open_stores(index_dir: Path) -> tuple[Store, SearchIndex, str]:
    reason = ""
    store = Store(index_dir / "lmdb")
    try:
        store.check_schema()
    except SchemaMismatch as exc:
        store.close()
        reason = f"{exc}: rebuilding"
        log.warning("%s at %s", reason, index_dir)
        shutil.rmtree(index_dir / "lmdb", ignore_errors=True)
        shutil.rmtree(index_dir / "tantivy", ignore_errors=True)
        store = Store(index_dir / "lmdb")
    try:
        search = SearchIndex(index_dir / "tantivy")
    except IndexError_:
        # A Tantivy index that cannot be opened is rebuilt from nothing; LMDB is wiped with it so the
        # next run re-indexes everything rather than trusting records without documents.
        store.close()
        shutil.rmtree(index_dir / "lmdb", ignore_errors=True)  # graph/ and contexts/ are not derived from it
        shutil.rmtree(index_dir / "tantivy", ignore_errors=True)
        reason = "the search index was unreadable: rebuilding"
        store = Store(index_dir / "lmdb")
        search = SearchIndex(index_dir / "tantivy")
    return store, search, reason
