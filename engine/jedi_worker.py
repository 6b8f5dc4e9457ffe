"""The jedi worker process: runs every jedi call of one language server, one at a time.

Why a process and not a thread: jedi is pure Python and some of its inferences take seconds (a
parameter's type is searched for in every file that calls the function). In a thread it holds the GIL
against the server's event loop and its index fallback, so the fallback meant to answer quickly
answered slowly; here it has its own interpreter (and core). A process can also be interrupted: the
parent writes a job id to the control pipe and sends SIGUSR1; the handler raises :class:`Interrupted`
in the middle of jedi's work when that job is the one running.

This file runs as a script (``python -P jedi_worker.py JOB_FD REPLY_FD CONTROL_FD``), not as part of
the ``nexus`` package: the worker imports only the standard library and jedi, so it starts fast. The
messages are pickled tuples of builtin types: ``(job_id, op, args)`` in, ``(job_id, status, value)``
out, with status "ok", "error" (value: a message) or "interrupted".

Positions in and out are the engine's: 0-based rows and UTF-8 byte columns.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import pickle
import signal
import sys
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

log = logging.getLogger("nexus.engine.jedi_worker")

MAX_COMPLETIONS = 5000
WARM_IMPORTS = 20  # imports of a just-opened document loaded ahead of its first request
WARM_SECONDS = 2.0  # and at most this long
MAX_SCRIPTS = 6  # warm jedi Scripts kept (per document text), reused by requests at the same version


class Interrupted(BaseException):
    """Raised inside jedi by the SIGUSR1 handler. A BaseException, so jedi's own ``except Exception``
    clauses do not swallow it."""


class Worker:
    def __init__(self, control_fd: int) -> None:
        import jedi

        self.jedi = jedi
        self.control_fd = control_fd
        self.current = 0  # id of the job running, 0 between jobs
        self.shielded = 0  # > 0 while writing a cache file: an interrupt waits until it is written
        self.deferred = False
        self.projects: dict[tuple[str, str | None], tuple[Any, Any]] = {}
        self.scripts: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self.generation = 0
        self.completions: OrderedDict[int, Any] = OrderedDict()
        self.next_key = 0

    # -- interruption ----------------------------------------------------------------------------

    def on_signal(self, _signum: int, _frame: object) -> None:
        wanted: set[int] = set()
        try:
            while True:
                chunk = os.read(self.control_fd, 4096)
                if not chunk:
                    break
                wanted.update(int.from_bytes(chunk[i:i + 8], "little") for i in range(0, len(chunk) - 7, 8))
                if len(chunk) < 4096:
                    break
        except BlockingIOError:
            pass
        if self.current and self.current in wanted:
            if self.shielded:
                self.deferred = True
                return
            self.current = 0  # disarm: a second signal must not raise while the first unwinds
            raise Interrupted

    @contextlib.contextmanager
    def shield(self) -> Iterator[None]:
        """No interrupt inside (a half-written cache file would break every later jedi, here and in
        any other program sharing parso's cache); one that arrived meanwhile is raised at the end."""
        self.shielded += 1
        try:
            yield
        finally:
            self.shielded -= 1
        if not self.shielded and self.deferred:
            self.deferred = False
            if self.current:
                self.current = 0
                raise Interrupted

    def guard_parso_cache(self) -> None:
        """parso writes its cache pickles in place ('wb', then dump): a reader (or an interrupt) in the
        middle sees a truncated file, which parso then fails to load forever. Write them atomically,
        shielded from interrupts, and treat an unreadable one as a cache miss."""
        import parso.cache as cache

        load: Callable[..., Any] = cache._load_from_file_system
        hashed_path: Callable[..., str] = cache._get_hashed_path

        def save(hashed_grammar: str, path: Any, item: Any, cache_path: Any = None) -> None:
            target = hashed_path(hashed_grammar, path, cache_path=cache_path)
            with self.shield():
                fd, temporary = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".nexus-", suffix=".tmp")
                try:
                    with os.fdopen(fd, "wb") as out:
                        pickle.dump(item, out, pickle.HIGHEST_PROTOCOL)
                    os.replace(temporary, target)
                except BaseException:
                    with contextlib.suppress(OSError):
                        os.unlink(temporary)
                    raise

        def load_safely(hashed_grammar: str, path: Any, p_time: Any, cache_path: Any = None) -> Any:
            try:
                return load(hashed_grammar, path, p_time, cache_path=cache_path)
            except (EOFError, pickle.UnpicklingError, AttributeError, ImportError, IndexError) as exc:
                log.info("parso cache for %s unreadable (%s): parsing again", path, exc)
                with contextlib.suppress(OSError):
                    os.unlink(hashed_path(hashed_grammar, path, cache_path=cache_path))
                return None

        cache._save_to_file_system = save
        cache._load_from_file_system = load_safely

    def after_interrupt(self, path: str | None) -> None:
        """An interrupted jedi may have left a half-updated tree of the document behind (parso's diff
        parser updates the cached tree in place): drop the document's Scripts and cached tree. Other
        modules' trees are only ever replaced whole, so their caches stay warm."""
        if path is None:
            self.scripts.clear()
            return
        for key in [k for k in self.scripts if k[1] == path]:
            del self.scripts[key]
        try:
            import parso.cache

            for by_path in parso.cache.parser_cache.values():
                for cached in [p for p in by_path if str(p) == path]:
                    del by_path[cached]
        except (ImportError, AttributeError):
            pass

    # -- the loop --------------------------------------------------------------------------------

    def serve(self, jobs: Connection, replies: Connection) -> None:
        while True:
            try:
                message = jobs.recv_bytes()
            except EOFError:
                return
            job_id, op, args = pickle.loads(message)
            handler: Callable[..., Any] | None = getattr(self, f"op_{op}", None)
            try:
                if handler is None:
                    raise ValueError(f"unknown jedi worker operation {op!r}")
                self.current = job_id
                value = handler(*args)
                self.current = 0
                reply: tuple[Any, ...] = (job_id, "ok", value)
            except Interrupted:
                self.current = 0
                self.after_interrupt(args[1] if len(args) > 1 and isinstance(args[1], str) else None)
                reply = (job_id, "interrupted", None)
            except RecursionError:
                self.current = 0
                reply = (job_id, "error", "jedi hit the recursion limit on this code")
            except Exception as exc:
                self.current = 0
                log.debug("jedi %s failed", op, exc_info=True)
                reply = (job_id, "error", f"{type(exc).__name__}: {exc}")
            try:
                data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:
                data = pickle.dumps((job_id, "error", f"unpicklable result: {exc}"))
            replies.send_bytes(data)

    # -- jedi helpers ----------------------------------------------------------------------------

    def project(self, key: tuple[str, str | None]) -> tuple[Any, Any]:
        found = self.projects.get(key)
        if found is None:
            root, exe = key
            jedi = self.jedi
            if exe is None:
                environment = jedi.api.environment.InterpreterEnvironment()
            else:
                environment = jedi.create_environment(exe, safe=False)
            found = self.projects[key] = (jedi.Project(root, environment_path=exe), environment)
        return found

    def script(self, project: tuple[str, str | None], path: str, text: str, generation: int) -> Any:
        """A jedi Script for this exact text; the same object for requests at the same version, so
        their inference caches are shared. Files changed on disk (a newer generation) drop them all."""
        if generation != self.generation:
            self.generation = generation
            self.scripts.clear()
        key = (project, path, len(text), hash(text))
        found = self.scripts.get(key)
        if found is not None and found._code == text:
            self.scripts.move_to_end(key)
            return found
        jedi_project, environment = self.project(project)
        found = self.jedi.Script(text, path=path, project=jedi_project, environment=environment)
        self.scripts[key] = found
        while len(self.scripts) > MAX_SCRIPTS:
            self.scripts.popitem(last=False)
        return found

    # -- operations (op_<name>): arguments are builtins, results are builtins --------------------

    def op_ping(self) -> int:
        return os.getpid()

    def op_warm_up(self, project: tuple[str, str | None], path: str) -> None:
        jedi_project, environment = self.project(project)
        script = self.jedi.Script("import os\nos.path.join('')\nstr().", path=path, project=jedi_project,
                                  environment=environment)
        script.complete(3, 6)
        script.get_signatures(2, 13)

    def op_parse(self, project: tuple[str, str | None], path: str, text: str, generation: int) -> int:
        """Parse a just-opened document and load what it imports, so the first request after opening
        (``os.pa``) finds its modules inferred instead of paying for them. Bounded: at most
        ``WARM_IMPORTS`` imports and ``WARM_SECONDS``; returns how many were loaded."""
        import time

        script = self.script(project, path, text, generation)
        deadline = time.monotonic() + WARM_SECONDS
        loaded = 0
        names: list[Any] = safe(lambda: script.get_names(all_scopes=False, definitions=True), [])
        for name in names[:4 * WARM_IMPORTS]:
            if loaded >= WARM_IMPORTS or time.monotonic() > deadline:
                break
            if safe(functools.partial(getattr, name, "type"), "") == "module":
                safe(name.infer, [])
                loaded += 1
        return loaded

    def op_complete(self, project: tuple[str, str | None], path: str, text: str, generation: int, line: int,
                    col: int) -> list[tuple[str, str, int]]:
        row, column = jedi_position(text, line, col)
        found = self.script(project, path, text, generation).complete(row, column)[:MAX_COMPLETIONS]
        out = []
        for item in found:
            self.next_key += 1
            self.completions[self.next_key] = item
            out.append((item.name, _kind(item), self.next_key))
        while len(self.completions) > 4 * MAX_COMPLETIONS:
            self.completions.popitem(last=False)
        return out

    def op_resolve(self, key: int) -> tuple[str, str, str]:
        """(signature lines, docstring, description) of a completion returned earlier; empty when expired."""
        item = self.completions.get(key)
        if item is None:
            return "", "", ""
        signatures = "\n".join(s.to_string() for s in safe(item.get_signatures, []))
        return signatures, safe(lambda: item.docstring(raw=True), ""), safe(lambda: item.description, "")

    def op_help(self, project: tuple[str, str | None], path: str, text: str, generation: int, line: int,
                col: int) -> tuple[str, str, str] | None:
        row, column = jedi_position(text, line, col)
        for name in self.script(project, path, text, generation).help(row, column):
            if name.type == "keyword" and not name.docstring():
                continue
            signatures = [s.to_string() for s in safe(name.get_signatures, [])]
            head = "\n".join(signatures) or name.description
            return name.type, head, _docstring(name)
        return None

    def op_signatures(self, project: tuple[str, str | None], path: str, text: str, generation: int, line: int,
                      col: int) -> list[tuple[str, str, tuple[str, ...], int | None]]:
        row, column = jedi_position(text, line, col)
        out = []
        for sig in self.script(project, path, text, generation).get_signatures(row, column):
            params = tuple(p.to_string() for p in sig.params)
            out.append((sig.to_string(), _docstring(sig), params, sig.index))
        return out

    def op_goto(self, project: tuple[str, str | None], path: str, text: str, generation: int, line: int, col: int,
                mode: str) -> list[tuple[Any, ...]]:
        row, column = jedi_position(text, line, col)
        script = self.script(project, path, text, generation)
        if mode == "type":
            names = script.infer(row, column)
        else:
            names = script.goto(row, column, follow_imports=mode == "definition",
                                follow_builtin_imports=mode == "definition")
        return [name_tuple(n) for n in names]

    def op_references(self, project: tuple[str, str | None], path: str, text: str, generation: int, line: int,
                      col: int, file_only: bool) -> list[tuple[Any, ...]]:
        row, column = jedi_position(text, line, col)
        script = self.script(project, path, text, generation)
        names = script.get_references(row, column, scope="file" if file_only else "project")
        return [name_tuple(n) for n in names]

    def op_renameable(self, project: tuple[str, str | None], path: str, text: str, generation: int, line: int,
                      col: int) -> tuple[Any, ...] | None:
        row, column = jedi_position(text, line, col)
        script = self.script(project, path, text, generation)
        names = script.goto(row, column)
        if not names or any(n.in_builtin_module() or n.type == "keyword" for n in names):
            return None
        root = os.path.realpath(project[0])
        for n in names:
            module = n.module_path
            if module is None or not os.path.realpath(module).startswith(root + os.sep):
                return None
        here = [n for n in script.get_references(row, column, scope="file")
                if (n.line, n.column) <= (row, column) <= (n.line, n.column + len(n.name))]
        return name_tuple(here[0]) if here else None

    def op_sleep(self, seconds: float) -> float:
        """Busy work for tests of interruption: returns only if nobody interrupts it."""
        import time

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            sum(range(1000))
        return seconds


def jedi_position(text: str, line: int, col: int) -> tuple[int, int]:
    """jedi counts rows from 1 and columns in code points; the engine in rows from 0 and bytes."""
    start = 0
    for _ in range(line):
        start = text.find("\n", start) + 1
        if start == 0:
            raise ValueError(f"line {line + 1} is past the end of the document")
    end = text.find("\n", start)
    encoded = text[start:end if end >= 0 else len(text)].encode("utf-8", "surrogatepass")
    return line + 1, len(encoded[:max(col, 0)].decode("utf-8", "ignore"))


def name_tuple(name: Any) -> tuple[Any, ...]:
    """(path, row, byte col, byte end col, name, type, description, line text) of a jedi Name."""
    module = str(name.module_path) if name.module_path else None
    if name.line is None or name.column is None:
        return (module, 0, 0, 0, name.name, name.type, safe(lambda: name.description, ""), "")
    line_text = safe(lambda: name.get_line_code(), "").rstrip("\r\n")
    start = len(line_text[:name.column].encode("utf-8", "surrogatepass"))
    end = len(line_text[:name.column + len(name.name)].encode("utf-8", "surrogatepass"))
    return (module, name.line - 1, start, end, name.name, name.type, safe(lambda: name.description, ""), line_text)


def _kind(completion: Any) -> str:
    return str(safe(lambda: completion.type, "statement"))


def _docstring(name: Any) -> str:
    return str(safe(lambda: name.docstring(raw=True), ""))


def safe(fn: Callable[[], Any], default: Any = "") -> Any:
    """jedi raises on odd code in places that only decorate an answer: keep the answer."""
    try:
        return fn()
    except Exception as exc:
        log.debug("jedi detail failed: %r", exc)
        return default


def main(argv: list[str]) -> None:
    job_fd, reply_fd, control_fd = (int(a) for a in argv[1:4])
    # Anything printing to stdout (jedi's debug output, a plugin) goes to stderr instead.
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(level=os.environ.get("NEXUS_JEDI_LOG", "WARNING"), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s jedi-worker: %(message)s")
    os.set_blocking(control_fd, False)
    worker = Worker(control_fd)
    worker.guard_parso_cache()
    signal.signal(signal.SIGUSR1, worker.on_signal)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when this process ends
    worker.serve(Connection(job_fd, writable=False), Connection(reply_fd, readable=False))


if __name__ == "__main__":
    main(sys.argv)
