"""Workspace folders: each one's engine Workspace, its background indexing, and its Python semantics.

Indexing runs in a thread per folder at a lower CPU priority (the worker processes it forks inherit
it), so requests stay fast while a large workspace is indexed; queries answer from whatever is
committed meanwhile. When another process (a CLI ``nexus index``) holds the index, the folder keeps
serving what is indexed and retries. Progress goes to the client through a callback the server
marshals onto its event loop.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nexus.engine import IndexLockedError, NexusError, Progress, Workspace
from nexus.engine.jedi_process import JediProcess
from nexus.engine.python_semantics import PythonSemantics, PythonSettings
from nexus.services import Backends, WorkspaceHandle

log = logging.getLogger(__name__)

RETRY_LOCKED = 2.0  # seconds between attempts while another process writes the index
ProgressSink = Callable[["Folder", Progress | None, str], None]


@dataclass(eq=False)
class Folder:
    uri: str
    root: Path
    ws: Workspace | None = None
    state: str = "opening"  # opening, indexing, waiting (locked by another process), ready, error
    error: str = ""
    files_done: int = 0
    files_total: int = 0
    indexed_at: float | None = None
    last_summary: dict | None = None  # type: ignore[type-arg]
    _python: PythonSemantics | None = field(default=None, repr=False)
    _python_error: str = ""
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _again: bool = False
    _waiters: list[Future[dict[str, Any]]] = field(default_factory=list, repr=False)  # for the next run
    _backends: Backends | None = field(default=None, repr=False)

    def python(self, process: JediProcess | None = None) -> PythonSemantics | None:
        """jedi for this folder (in ``process``, shared with the other folders), set up on first use;
        None (logged once) if its environment is unusable."""
        if self._python is None and not self._python_error:
            try:
                settings = self.ws.settings.section("python", PythonSettings) if self.ws else PythonSettings()
                self._python = PythonSemantics(self.root, settings.environment, process)
                self._python.warm_up()
            except NexusError as exc:
                self._python_error = str(exc)
                log.error("python semantics unavailable for %s: %s", self.root, exc)
        return self._python

    def backends(self) -> Backends | None:
        """The operations' backends over this folder's open index (None until it is open)."""
        if self.ws is None:
            return None
        if self._backends is None or self._backends.workspace.opened is not self.ws:
            self._backends = Backends(self.root, self.ws.settings, WorkspaceHandle.attached(self.ws))
        return self._backends

    def status(self) -> dict[str, object]:
        out: dict[str, object] = {"uri": self.uri, "root": str(self.root), "state": self.state,
                                  "error": self.error or None, "filesDone": self.files_done,
                                  "filesTotal": self.files_total, "indexedAt": self.indexed_at}
        if self.ws is not None:
            try:
                out["index"] = self.ws.status().to_json()
            except NexusError as exc:
                out["index"] = {"error": str(exc)}
        if self._python is not None:
            out["pythonEnvironment"] = self._python.environment_path
        elif self._python_error:
            out["pythonEnvironment"] = {"error": self._python_error}
        return out

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._python is not None:
            self._python.close()
        if self.ws is not None:
            self.ws.close()


class Folders:
    def __init__(self, sink: ProgressSink) -> None:
        self._items: dict[Path, Folder] = {}
        self._sink = sink
        self._lock = threading.Lock()
        self.generation = 0  # bumped when a folder is added or removed

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(self._items.values()))

    def add(self, uri: str, root: Path, index: bool = True) -> Folder:
        real = Path(os.path.realpath(root))
        with self._lock:
            existing = self._items.get(real)
            if existing is not None:
                return existing
            folder = self._items[real] = Folder(uri, real)
            self.generation += 1
        try:
            folder.ws = Workspace.open(real)
        except NexusError as exc:
            folder.state, folder.error = "error", str(exc)
            log.error("cannot open workspace %s: %s", real, exc)
            return folder
        if index:
            self.reindex(folder)
        else:
            folder.state = "ready"
        return folder

    def remove(self, root: Path) -> None:
        with self._lock:
            folder = self._items.pop(Path(os.path.realpath(root)), None)
            self.generation += 1
        if folder is not None:
            threading.Thread(target=folder.close, name="close-folder", daemon=True).start()

    def close(self) -> None:
        for folder in self:
            folder.close()
        self._items.clear()
        self.generation += 1

    def for_path(self, path: Path | None) -> Folder | None:
        """The innermost folder containing ``path``."""
        if path is None:
            return None
        real = Path(os.path.realpath(path))
        best: Folder | None = None
        for root, folder in list(self._items.items()):
            if (real == root or real.is_relative_to(root)) and (best is None or len(root.parts) > len(best.root.parts)):
                best = folder
        return best

    def reindex(self, folder: Folder) -> Future[dict[str, Any]]:
        """Start (or queue one more) background index run of ``folder``.

        The Future resolves with the summary (``nexus index --json``'s shape) of a run that started
        after this call, so it covers every change made before it; it fails with the reason when the
        run fails or another process holds the index.
        """
        done: Future[dict[str, Any]] = Future()
        if folder.ws is None:
            done.set_exception(NexusError(folder.error or f"{folder.root} has no index"))
            return done
        with self._lock:
            folder._waiters.append(done)
            if folder._thread is not None and folder._thread.is_alive():
                folder._again = True
                return done
            folder._thread = threading.Thread(target=self._index, args=(folder,),
                                              name=f"index-{folder.root.name}", daemon=True)
        folder._thread.start()
        return done

    def _index(self, folder: Folder) -> None:
        _lower_priority()
        assert folder.ws is not None
        while not folder._stop.is_set():
            with self._lock:
                folder._again = False
                waiters, folder._waiters = folder._waiters, []
            folder.state = "indexing"
            self._sink(folder, None, "begin")

            def report(event: Progress) -> None:
                folder.files_done, folder.files_total = event.files_done, event.files_total
                self._sink(folder, event, "report")

            try:
                summary = folder.ws.index(progress=report)
            except IndexLockedError as exc:
                folder.state, folder.error = "waiting", str(exc)
                self._sink(folder, None, "end")
                _settle(waiters, exc)  # a request should not wait on another process
                log.info("%s; serving the existing index meanwhile", exc)
                folder._stop.wait(RETRY_LOCKED)
                continue
            except NexusError as exc:
                folder.state, folder.error = "error", str(exc)
                log.error("indexing %s failed: %s", folder.root, exc)
                self._sink(folder, None, "end")
                _settle(waiters, exc)
                self._fail_queued(folder, exc)
                return
            except Exception:
                log.exception("indexing %s crashed", folder.root)
                folder.state, folder.error = "error", "indexing crashed; see the server log"
                self._sink(folder, None, "end")
                _settle(waiters, NexusError(folder.error))
                self._fail_queued(folder, NexusError(folder.error))
                return
            folder.state, folder.error = "ready", ""
            folder.indexed_at = time.time()
            folder.last_summary = summary.to_json()
            self._sink(folder, None, "end")
            _settle(waiters, folder.last_summary)
            with self._lock:
                if not folder._again:
                    folder._thread = None
                    return
        self._fail_queued(folder, NexusError(f"{folder.root} was closed"))

    def _fail_queued(self, folder: Folder, exc: Exception) -> None:
        with self._lock:
            waiters, folder._waiters = folder._waiters, []
            folder._thread = None
        _settle(waiters, exc)


def _settle(waiters: list[Future[dict[str, Any]]], outcome: dict[str, Any] | Exception) -> None:
    for waiter in waiters:
        if waiter.done():
            continue
        if isinstance(outcome, Exception):
            waiter.set_exception(outcome)
        else:
            waiter.set_result(outcome)


def _lower_priority() -> None:
    """Nice this thread (Linux sets priorities per thread; forked indexer workers inherit it)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass
