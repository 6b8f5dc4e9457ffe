"""Building and updating a workspace index: walk, parse in worker processes, store, make searchable.

Order of writes, which is what makes a SIGKILL at any moment harmless for writers and readers:

1. an LMDB transaction *stages* a batch of file versions (or removals); readers keep resolving the
   committed versions, whose data stays;
2. their Tantivy documents are added and the replaced versions' documents deleted;
3. after a Tantivy commit (at the end of the run, or every ``COMMIT_EVERY`` seconds), one LMDB
   transaction *promotes* the staged paths and drops the replaced versions' data.

Before step 3 Tantivy's committed documents are the old versions', after it the new ones'; LMDB holds
both until then, so a reader finds every file either way (``engine.snapshot``). The next writer replays
whatever is still staged from LMDB (no re-parse), so LMDB and Tantivy always agree on the files in.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .model import Skipped
from .search.index import documents_json
from .store.records import FileVersion
from .vcs.indexing import META_KEY as GIT_HEAD
from .vcs.indexing import head_moves
from .walker import Candidate, Rejected, Walker
from .worker import Limits, Outcome, Task, exit_with, process_batch

if TYPE_CHECKING:
    from .workspace import Workspace

log = logging.getLogger(__name__)

BATCH_BYTES = 1_000_000
BATCH_FILES = 64
INLINE_BYTES = 3_000_000  # below this much to parse, worker processes cost more than they save
COMMIT_EVERY = 20.0  # seconds between Tantivy checkpoints during a long run


@dataclass(frozen=True, slots=True)
class Progress:
    phase: str  # "scanning", "indexing", "committing", "graph", "done"
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    path: str = ""


ProgressCallback = Callable[[Progress], None]


@dataclass(slots=True)
class IndexSummary:
    root: str
    files_by_language: dict[str, int] = field(default_factory=dict)
    symbols: int = 0
    chunks: int = 0
    bytes: int = 0
    seconds: float = 0.0
    parsed: int = 0
    unchanged: int = 0
    removed: int = 0
    repaired: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[Skipped] = field(default_factory=list)
    rebuilt: str = ""
    phases: dict[str, float] = field(default_factory=dict)  # seconds: scan, parse, commit, graph
    graph: dict[str, int] = field(default_factory=dict)  # files added to / removed from the code graph

    @property
    def files(self) -> int:
        return sum(self.files_by_language.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "root": self.root, "files": self.files, "filesByLanguage": dict(sorted(self.files_by_language.items())),
            "symbols": self.symbols, "chunks": self.chunks, "bytes": self.bytes,
            "seconds": round(self.seconds, 3), "parsed": self.parsed, "unchanged": self.unchanged,
            "removed": self.removed, "repaired": self.repaired,
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "notes": [{"path": s.path, "note": s.reason} for s in self.notes],
            "rebuilt": self.rebuilt, "phases": {k: round(v, 3) for k, v in self.phases.items()},
            "graph": dict(self.graph),
        }


class Indexer:
    def __init__(self, workspace: Workspace, progress: ProgressCallback | None = None) -> None:
        self.ws = workspace
        self.store = workspace.store
        self.search = workspace.search_index
        self.progress = progress or (lambda p: None)
        settings = workspace.index_settings
        self.limits = Limits(settings.max_file_size, settings.max_average_line)
        self.workers = settings.workers or os.cpu_count() or 1
        self._uncommitted: set[str] = set()  # staged paths whose Tantivy state is not committed yet
        self._replaced: list[int] = []  # ids whose Tantivy documents must be deleted
        self._last_commit = time.monotonic()

    def run(self) -> IndexSummary:
        started = time.perf_counter()
        with self.store.write() as batch:  # cleared at the end: if still set with no writer, we were cut short
            batch.put_meta("run", {"state": "running", "pid": os.getpid(), "startedAt": time.time()})
        summary = IndexSummary(str(self.ws.root), rebuilt=self.ws.rebuilt_reason)
        summary.repaired = self.repair()
        self.progress(Progress("scanning", 0, 0, 0, 0))
        walker = Walker(self.ws.root, self.limits.max_file_size, self.ws.index_settings.exclude)
        candidates: list[Candidate] = []
        rejected: list[Rejected] = []
        for found in walker.walk():
            if isinstance(found, Candidate):
                candidates.append(found)
            else:
                rejected.append(found)
        if rejected and rejected[0].path == "" and not candidates:
            summary.skipped.append(Skipped(".", rejected[0].reason))
            with self.store.write() as batch:
                batch.put_meta("run", {"state": "done", "pid": os.getpid(), "finishedAt": time.time()})
            return summary

        head, moved = head_moves(self.ws.root, self.store.meta(GIT_HEAD))  # files a checkout changed
        with self.store.read() as reader:
            states = reader.states()
            previously_skipped = reader.skipped()
        seen = {c.path for c in candidates} | {r.path for r in rejected}
        todo: list[Task] = []
        next_id = self.store.meta("next_id", 1)
        for candidate in candidates:
            state = states.get(candidate.path)
            if state is not None and (state.size, state.mtime_ns) == (candidate.size, candidate.mtime_ns) \
                    and candidate.path not in moved:
                summary.unchanged += 1
                continue
            old_skip = previously_skipped.get(candidate.path)
            if old_skip is not None and tuple(old_skip[1:]) == (candidate.size, candidate.mtime_ns):
                summary.skipped.append(Skipped(candidate.path, old_skip[0]))
                continue
            todo.append(Task(candidate.path, candidate.absolute, next_id, candidate.language, candidate.size,
                             candidate.mtime_ns, state.content_hash if state else ""))
            next_id += 1
        gone = [path for path in states if path not in seen]
        if todo or gone:
            self.search.writer(bulk=True)  # not for a run with nothing to do: it starts threads
        with self.store.write() as batch:
            for reject in rejected:
                summary.skipped.append(Skipped(reject.path, reject.reason))
                if reject.path in states or reject.path not in previously_skipped:
                    self._note_old(reject.path, batch.delete_path(reject.path))
                    batch.put_skipped(reject.path, reject.reason, reject.size, reject.mtime_ns)
            for path in gone:
                self._note_old(path, batch.delete_path(path))
                summary.removed += 1
            for path in previously_skipped:
                if path not in seen:
                    batch.forget_skipped(path)
        self._flush_deletes()
        clock = time.perf_counter()
        summary.phases["scan"] = clock - started

        self._parse_all(todo, summary)
        summary.phases["parse"] = time.perf_counter() - clock
        clock = time.perf_counter()
        self.progress(Progress("committing", len(todo), len(todo), 0, 0))
        self._commit()
        summary.phases["commit"] = time.perf_counter() - clock
        clock = time.perf_counter()
        self._sync_graph(summary)
        summary.phases["graph"] = time.perf_counter() - clock
        self._totals(summary)
        summary.seconds = time.perf_counter() - started
        with self.store.write() as batch:
            batch.put_meta("updated_at", time.time())
            batch.put_meta("last_run", summary.to_json())
            batch.put_meta("run", {"state": "done", "pid": os.getpid(), "finishedAt": time.time()})
            batch.put_meta(GIT_HEAD, head)
            if self.store.meta("created_at") is None:
                batch.put_meta("created_at", time.time())
        self.store.sync()
        self.progress(Progress("done", len(todo), len(todo), 0, 0))
        return summary

    # -- parsing ---------------------------------------------------------------------------------

    def _parse_all(self, todo: list[Task], summary: IndexSummary) -> None:
        total_bytes = sum(t.size for t in todo)
        done_files = done_bytes = 0
        batches = list(_batches(todo))
        if total_bytes < INLINE_BYTES or self.workers < 2:
            for tasks in batches:
                self._write(tasks, process_batch(tasks, self.limits), summary)
                done_files += len(tasks)
                done_bytes += sum(t.size for t in tasks)
                self.progress(Progress("indexing", done_files, len(todo), done_bytes, total_bytes, tasks[-1].path))
            return
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["nexus.engine.worker"])
        with ProcessPoolExecutor(self.workers, mp_context=context, initializer=exit_with,
                                 initargs=(os.getpid(),)) as pool:
            pending: dict[Future[list[FileVersion | Outcome]], list[Task]] = {}
            queue = iter(batches)
            for tasks in queue:
                pending[pool.submit(process_batch, tasks, self.limits)] = tasks
                if len(pending) >= 2 * self.workers:
                    break
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    tasks = pending.pop(future)
                    self._write(tasks, future.result(), summary)
                    done_files += len(tasks)
                    done_bytes += sum(t.size for t in tasks)
                    self.progress(Progress("indexing", done_files, len(todo), done_bytes, total_bytes,
                                           tasks[-1].path))
                    following = next(queue, None)
                    if following is not None:
                        pending[pool.submit(process_batch, following, self.limits)] = following

    def _write(self, tasks: list[Task], results: list[FileVersion | Outcome], summary: IndexSummary) -> None:
        versions: list[FileVersion] = []
        with self.store.write() as batch:
            for task, result in zip(tasks, results, strict=True):
                if isinstance(result, FileVersion):
                    self._note_old(result.path, batch.put_file(result))
                    self._uncommitted.add(result.path)
                    versions.append(result)
                    summary.parsed += 1
                    if result.status == "invalid-utf8":
                        summary.notes.append(Skipped(result.path, "invalid UTF-8, indexed with replacement characters"))
                    elif result.status == "syntax-errors":
                        summary.notes.append(Skipped(result.path, f"{result.error_count} syntax error(s)"))
                elif result.reason:
                    self._note_old(task.path, batch.delete_path(task.path))
                    batch.put_skipped(task.path, result.reason, result.size, result.mtime_ns)
                    summary.skipped.append(Skipped(task.path, result.reason))
                else:
                    batch.touch(task.path, result.mtime_ns)
                    summary.unchanged += 1
        self._flush_deletes()
        for version in versions:
            self.search.add(version.docs)
        if time.monotonic() - self._last_commit > COMMIT_EVERY:
            self._commit()
            self._sync_graph(summary)  # a long run's graph keeps up, and resumes with it

    def _flush_deletes(self) -> None:
        for file_id in self._replaced:
            self.search.delete_file(file_id)
        self._replaced.clear()

    def _note_old(self, path: str, file_ids: list[int]) -> None:
        if file_ids:
            self._uncommitted.add(path)
            self._replaced.extend(file_ids)

    def _commit(self) -> None:
        self.search.commit()
        if self._uncommitted:
            with self.store.write() as batch:
                batch.promote(sorted(self._uncommitted))
            self._uncommitted = set()
        self._last_commit = time.monotonic()

    def _sync_graph(self, summary: IndexSummary) -> None:
        """Bring the code graph's facts along with what was just committed (read from the records the
        workers made, no re-parse); the file edges that only ranking reads are left for its first use."""
        from .graph.store import GraphStore

        def report(phase: str, done: int, total: int) -> None:
            self.progress(Progress("graph", done, total, 0, 0))

        synced = GraphStore.for_workspace(self.ws).sync(self.ws, report, edges=False)
        summary.graph = {"added": summary.graph.get("added", 0) + synced.added,
                         "removed": summary.graph.get("removed", 0) + synced.removed}

    # -- repair ----------------------------------------------------------------------------------

    def repair(self) -> int:
        """Commit what an interrupted writer left staged, from LMDB (no re-parse); returns how many files.

        Its Tantivy state is unknown (added or not, committed or not), so the staged version's documents
        are rebuilt and every version it replaces is deleted, then the paths are promoted."""
        with self.store.read() as reader:
            staged = reader.staged()
            if not staged:
                return 0
            log.info("committing %d file(s) left staged by an interrupted run", len(staged))
            self.search.writer(bulk=True)
            for entry in staged.values():
                for file_id in entry.retire:
                    self.search.delete_file(file_id)
                if entry.version is None:
                    continue
                file_id = entry.version.file_id
                self.search.delete_file(file_id)
                content = reader.content(file_id)
                if content is None:
                    continue
                names, _ = reader.raw_refs(file_id)
                self.search.add(documents_json(
                    file_id, entry.path, entry.version.language, content,
                    reader.raw_symbols(file_id), reader.raw_chunks(file_id), names))  # type: ignore[arg-type]
        self._uncommitted.update(staged)
        self._commit()
        return len(staged)

    def _totals(self, summary: IndexSummary) -> None:
        languages: Counter[str] = Counter()
        with self.store.read() as reader:
            for info in reader.files():
                languages[info.language] += 1
                summary.symbols += info.symbols
                summary.chunks += info.chunks
                summary.bytes += info.size
        summary.files_by_language = dict(languages)


def _batches(tasks: Iterable[Task]) -> Iterable[list[Task]]:
    batch: list[Task] = []
    size = 0
    for task in tasks:
        batch.append(task)
        size += task.size
        if size >= BATCH_BYTES or len(batch) >= BATCH_FILES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch
