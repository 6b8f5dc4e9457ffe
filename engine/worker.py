"""Turning one file on disk (or one editor buffer) into a :class:`FileVersion`.

Runs in the parsing worker processes, so it reads the file itself: the writer process never holds the
workspace's text, only the compressed results of the batches in flight. Everything a file contributes
is made here, once: its index records, its search documents and its code-graph facts.
"""

from __future__ import annotations

import hashlib
import os
import select
import threading
import time
from dataclasses import dataclass

import zstandard
from msgpack import packb

from .graph.facts import facts_record
from .model import CellSpan
from .parsing import extract, notebook_source
from .search.index import documents_json
from .store.records import FileVersion


@dataclass(frozen=True, slots=True)
class Task:
    path: str
    absolute: str
    file_id: int
    language: str
    size: int
    mtime_ns: int
    known_hash: str  # hash of the indexed version, "" when new: an unchanged file is not parsed again


@dataclass(frozen=True, slots=True)
class Outcome:
    """A task that did not produce a new version: skipped (with a reason) or unchanged content."""

    path: str
    reason: str  # "" when the content is unchanged (only the mtime moved)
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class Limits:
    max_file_size: int
    max_average_line: int


_local = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    found = getattr(_local, "zstd", None)
    if found is None:
        found = _local.zstd = zstandard.ZstdCompressor(level=3)
    return found


def exit_with(parent_pid: int) -> None:
    """Worker initializer: end this worker when the indexing process dies.

    Forkserver workers are not the indexer's children and hold the pool's pipes themselves, so a
    SIGKILLed indexer would otherwise leave them (and the forkserver) waiting forever.
    """

    def watch() -> None:
        try:
            handle = os.pidfd_open(parent_pid)
        except (AttributeError, OSError):
            while True:  # no pidfd: poll
                try:
                    os.kill(parent_pid, 0)
                except ProcessLookupError:
                    os._exit(1)
                except PermissionError:
                    pass
                time.sleep(1.0)
        select.select([handle], [], [])
        os._exit(1)

    threading.Thread(target=watch, name="nexus-parent-watch", daemon=True).start()


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def process_batch(tasks: list[Task], limits: Limits) -> list[FileVersion | Outcome]:
    return [process_file(task, limits) for task in tasks]


def process_file(task: Task, limits: Limits) -> FileVersion | Outcome:
    try:
        with open(task.absolute, "rb") as fh:
            data = fh.read(limits.max_file_size + 1)
            after = os.fstat(fh.fileno())
    except FileNotFoundError:
        return Outcome(task.path, "deleted during indexing", 0, 0)
    except IsADirectoryError:
        return Outcome(task.path, "not a regular file", 0, 0)
    except OSError as exc:
        return Outcome(task.path, f"unreadable: {exc.strerror or exc}", task.size, task.mtime_ns)
    mtime_ns = after.st_mtime_ns
    if len(data) > limits.max_file_size:
        return Outcome(task.path, f"too large (grew past {limits.max_file_size / 1e6:.1f} MB while indexing)",
                       after.st_size, mtime_ns)
    if after.st_size != len(data):
        # Changed while we read it: index what we read, and make the next run look again.
        mtime_ns = 0
    digest = content_hash(data)
    if digest == task.known_hash:
        return Outcome(task.path, "", len(data), mtime_ns)
    return build_version(task.path, task.file_id, task.language, data, digest, mtime_ns, limits)


def build_version(path: str, file_id: int, language: str, data: bytes, digest: str, mtime_ns: int,
                  limits: Limits) -> FileVersion | Outcome:
    """Parse ``data`` (the raw bytes of ``path``) into a FileVersion, or say why it is left out."""
    if b"\0" in data[:8192]:
        return Outcome(path, "binary file", len(data), mtime_ns)
    cells: tuple[CellSpan, ...] = ()
    if language == "notebook":
        try:
            notebook = notebook_source(data)
        except ValueError as exc:
            return Outcome(path, str(exc), len(data), mtime_ns)
        language, text, cells = notebook.language, notebook.text, notebook.cells
    else:
        text = data
    status = "ok"
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        # Editors show invalid bytes as U+FFFD; storing the same text keeps positions in agreement.
        text = text.decode("utf-8", "replace").encode("utf-8")
        status = "invalid-utf8"
    lines = text.count(b"\n") + 1
    if len(text) > 4096 and len(text) / lines > limits.max_average_line:
        return Outcome(path, f"minified or generated (average line of {len(text) // lines} bytes)",
                       len(data), mtime_ns)
    found = extract(language, text)
    if found.error_count and status == "ok":
        status = "syntax-errors"
    docs = documents_json(file_id, path, language, text, found.symbols, found.chunks, found.ref_names)
    return FileVersion(
        path=path, file_id=file_id, size=len(data), mtime_ns=mtime_ns, content_hash=digest,
        language=language, status=status, error_count=found.error_count,
        content_z=_compressor().compress(text), symbols=packb(found.symbols), imports=packb(found.imports),
        refs=packb([found.ref_names, found.refs.tobytes()]), chunks=packb(found.chunks),
        facts=packb(facts_record(path, file_id, language, found.symbols, found.line_starts, found.ref_names,
                                 found.refs, found.imports)),
        symbol_count=len(found.symbols), chunk_count=len(found.chunks), cells=cells, docs=docs,
    )
