"""The parent side of the jedi worker process (``jedi_worker.py``): a queue, one job in flight, and
interruption.

Jobs wait in a queue here, not in the worker, so a job made pointless before it starts (a newer one
with the same key, a cancelled request) is dropped without costing anything. One dispatcher thread
sends a job, waits for its reply and resolves its Future. A running job can be interrupted: when its
request is cancelled, when a newer request arrives while nobody waits for it any more (its caller
answered from the index meanwhile), or when it passes the hard time limit. A worker that dies is
restarted on the next job; one that dies over and over is given up on with a clear error.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from queue import SimpleQueue
from typing import Any

from .errors import NexusError, UnavailableError

log = logging.getLogger(__name__)

WORKER = Path(__file__).with_name("jedi_worker.py")
HARD_LIMIT = 20.0  # seconds a job may run before it is interrupted
KILL_AFTER = 3.0  # seconds an interrupted job has to stop before the worker is killed
MAX_RESTARTS = 5  # crashes within RESTART_WINDOW after which the worker is given up on
RESTART_WINDOW = 60.0


class JediError(NexusError):
    """jedi raised on this code (the message says how); the caller falls back to the index."""


class JobInterrupted(NexusError):
    """The job was interrupted before it finished (cancelled, superseded or over the time limit)."""


@dataclass(eq=False)
class Job:
    op: str
    args: tuple[Any, ...]
    future: Future[Any]
    key: object = None
    convert: Callable[[Any], Any] | None = None
    background: bool = False  # warm-up and pre-parsing: never interrupts anything
    job_id: int = 0
    abandoned: bool = False  # the caller stopped waiting (it answered from the index)
    started: float = 0.0
    interrupt_sent: float = 0.0
    reason: str = ""


@dataclass
class Stats:
    jobs: int = 0
    interrupted: int = 0
    dropped: int = 0
    restarts: int = 0
    errors: int = 0
    # "op:outcome", newest last; outcome is ok, error, crashed or "interrupted (reason)"
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=20))


class JediProcess:
    """One jedi worker process and its queue. Thread-safe; Futures resolve on the dispatcher thread."""

    def __init__(self, hard_limit: float = HARD_LIMIT) -> None:
        self.hard_limit = hard_limit
        self.stats = Stats()
        self.generation = 0  # bumped when files change on disk: the worker's warm Scripts are dropped
        self._queue: SimpleQueue[Job | None] = SimpleQueue()
        self._latest: dict[object, Job] = {}
        self._lock = threading.Lock()
        self._running: Job | None = None
        self._queued = 0  # submitted and not finished (running included)
        self._pending: dict[int, Job] = {}  # by id() of their future, until they finish
        self._next_id = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._jobs: Connection | None = None
        self._replies: Connection | None = None
        self._control: int | None = None
        self._crashes: deque[float] = deque()
        self._failed = ""
        self._closed = False
        self._thread = threading.Thread(target=self._dispatch, name="jedi-dispatch", daemon=True)
        self._thread.start()

    # -- public ----------------------------------------------------------------------------------

    def submit(self, op: str, *args: Any, key: object = None, convert: Callable[[Any], Any] | None = None,
               background: bool = False) -> Future[Any]:
        """Queue ``op``; a queued job with the same ``key`` is dropped, a running one interrupted if its
        caller gave up on it. Any non-background job interrupts a running job nobody waits for."""
        future: Future[Any] = Future()
        job = Job(op, args, future, key, convert, background)
        with self._lock:
            if self._closed:
                future.set_exception(UnavailableError("the jedi worker is closed"))
                return future
            self._next_id += 1
            job.job_id = self._next_id
            self.stats.jobs += 1
            self._queued += 1
            self._pending[id(future)] = job
            if key is not None:
                older = self._latest.get(key)
                if older is not None and older.future.cancel():
                    self.stats.dropped += 1
                self._latest[key] = job
            running = self._running
            if running is not None and running.abandoned and not background:
                self._interrupt_locked(running, "superseded by a newer request")
        self._queue.put(job)
        return future

    def interrupt(self, future: Future[Any], reason: str = "cancelled") -> bool:
        """Stop the job behind ``future``: dropped if queued, interrupted if running. True if it was
        still pending or running."""
        if future.cancel():
            with self._lock:
                self.stats.dropped += 1
            return True
        with self._lock:
            running = self._running
            if running is not None and running.future is future:
                self._interrupt_locked(running, reason)
                return True
        return False

    def abandon(self, future: Future[Any]) -> None:
        """The caller answered without this job: it may finish (its result can still fill a cache)
        unless a newer request needs the worker."""
        with self._lock:
            job = self._pending.get(id(future))
            if job is not None and job.future is future:
                job.abandoned = True

    def files_changed(self) -> None:
        """Files changed on disk: Scripts the worker kept warm may hold their old contents."""
        self.generation += 1

    def running(self) -> str | None:
        with self._lock:
            return self._running.op if self._running is not None else None

    def status(self) -> dict[str, Any]:
        with self._lock:
            running = self._running
            return {
                "pid": self._proc.pid if self._proc is not None and self._proc.poll() is None else None,
                "running": running.op if running is not None else None, "queued": self._queued,
                "jobs": self.stats.jobs, "interrupted": self.stats.interrupted, "dropped": self.stats.dropped,
                "restarts": self.stats.restarts, "errors": self.stats.errors, "recent": list(self.stats.recent),
                "error": self._failed or None,
            }

    def close(self) -> None:
        with self._lock:
            self._closed = True
            running = self._running
            if running is not None:
                self._interrupt_locked(running, "closing")
        self._queue.put(None)
        self._thread.join(timeout=KILL_AFTER + 1)
        self._stop_process()

    # -- the dispatcher thread -------------------------------------------------------------------

    def _dispatch(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                break
            with self._lock:
                if job.key is not None and self._latest.get(job.key) is job:
                    del self._latest[job.key]
            try:
                if not job.future.set_running_or_notify_cancel():
                    continue
                try:
                    value = self._run(job)
                except BaseException as exc:
                    job.future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))
                else:
                    job.future.set_result(value)
            finally:
                with self._lock:
                    self._queued -= 1
                    self._pending.pop(id(job.future), None)
        # Fail whatever is still queued, so no caller waits forever.
        while True:
            try:
                job = self._queue.get_nowait()
            except Exception:
                break
            if job is not None and job.future.set_running_or_notify_cancel():
                job.future.set_exception(UnavailableError("the jedi worker is closed"))

    def _run(self, job: Job) -> Any:
        if self._failed:
            raise UnavailableError(self._failed)
        if self._closed:
            raise UnavailableError("the jedi worker is closed")
        self._ensure_process()
        assert self._jobs is not None and self._replies is not None
        with self._lock:
            job.started = time.monotonic()
            self._running = job
        try:
            self._jobs.send_bytes(pickle.dumps((job.job_id, job.op, job.args), protocol=pickle.HIGHEST_PROTOCOL))
            reply = self._wait(job)
        except (EOFError, OSError) as exc:
            raise self._crashed(job, exc) from exc
        finally:
            with self._lock:
                self._running = None
        job_id, status, value = pickle.loads(reply)
        if job_id != job.job_id:  # cannot happen with one job in flight; a bug if it does
            raise UnavailableError(f"jedi worker answered job {job_id} to job {job.job_id}")
        if status == "interrupted":
            with self._lock:
                self.stats.interrupted += 1
                self.stats.recent.append(f"{job.op}:interrupted ({job.reason or 'stopped'})")
            raise JobInterrupted(f"jedi {job.op} interrupted: {job.reason or 'stopped'}")
        if status == "error":
            with self._lock:
                self.stats.errors += 1
                self.stats.recent.append(f"{job.op}:error")
            raise JediError(f"jedi {job.op}: {value}")
        with self._lock:
            self.stats.recent.append(f"{job.op}:ok")
        return job.convert(value) if job.convert is not None else value

    def _wait(self, job: Job) -> bytes:
        assert self._replies is not None
        while not self._replies.poll(0.25):
            now = time.monotonic()
            with self._lock:
                if not job.interrupt_sent and now - job.started > self.hard_limit:
                    self._interrupt_locked(job, f"over the {self.hard_limit:g} s limit")
                sent = job.interrupt_sent
            if sent and now - sent > KILL_AFTER:
                log.warning("jedi worker ignored an interrupt for %.0f s: restarting it", KILL_AFTER)
                self._stop_process()
                raise EOFError("killed after ignoring an interrupt")
        return self._replies.recv_bytes()

    def _interrupt_locked(self, job: Job, reason: str) -> None:
        if job.interrupt_sent or self._proc is None or self._control is None:
            return
        job.interrupt_sent = time.monotonic()
        job.reason = reason
        log.debug("interrupting jedi %s (job %d): %s", job.op, job.job_id, reason)
        try:
            os.write(self._control, job.job_id.to_bytes(8, "little"))
            self._proc.send_signal(signal.SIGUSR1)
        except OSError as exc:
            log.info("could not interrupt the jedi worker: %s", exc)

    # -- the process -----------------------------------------------------------------------------

    def _ensure_process(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        job_r, job_w = os.pipe()
        reply_r, reply_w = os.pipe()
        control_r, control_w = os.pipe()
        child_fds = (job_r, reply_w, control_r)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-P", str(WORKER), *map(str, child_fds)], pass_fds=child_fds,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, close_fds=True)
        except OSError as exc:
            for fd in (job_r, job_w, reply_r, reply_w, control_r, control_w):
                os.close(fd)
            raise UnavailableError(f"cannot start the jedi worker: {exc}") from exc
        for fd in child_fds:
            os.close(fd)
        os.set_blocking(control_w, False)
        with self._lock:
            self._proc = proc
            self._jobs = Connection(job_w, readable=False)
            self._replies = Connection(reply_r, writable=False)
            self._control = control_w
        log.info("jedi worker started (pid %d)", proc.pid)

    def _crashed(self, job: Job, exc: BaseException) -> UnavailableError:
        code = self._proc.poll() if self._proc is not None else None
        self._stop_process()
        now = time.monotonic()
        self._crashes.append(now)
        while self._crashes and now - self._crashes[0] > RESTART_WINDOW:
            self._crashes.popleft()
        with self._lock:
            self.stats.restarts += 1
            self.stats.recent.append(f"{job.op}:crashed")
        message = f"the jedi worker stopped during {job.op} (exit code {code}): {exc}"
        if len(self._crashes) >= MAX_RESTARTS:
            self._failed = f"the jedi worker crashed {len(self._crashes)} times in a minute; Python " \
                           "semantics are off until the server restarts (see the log)"
            log.error("%s", self._failed)
        else:
            log.warning("%s; it restarts on the next request", message)
        return UnavailableError(message)

    def _stop_process(self) -> None:
        with self._lock:
            proc, jobs, replies, control = self._proc, self._jobs, self._replies, self._control
            self._proc = self._jobs = self._replies = self._control = None
        for conn in (jobs, replies):
            if conn is not None:
                conn.close()
        if control is not None:
            os.close(control)
        if proc is not None and proc.poll() is None:
            proc.kill()
        if proc is not None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                log.warning("jedi worker %d did not exit", proc.pid)
