"""Python semantics from jedi: completion, help, signatures, go to, references, rename.

jedi is not thread-safe and some of its inferences take seconds (a parameter's type is searched for in
every call site), so every call runs on one dedicated thread and returns a Future; callers wait as
long as their latency budget allows and fall back to the index otherwise. A queued job that a newer
one of the same key makes pointless (completion after another keystroke) is dropped before it runs.

The project's environment is the one configured (``[python] environment`` / ``NEXUS_PYTHON_ENVIRONMENT``),
else a ``.venv``/``venv``/``env`` folder in the workspace, else ``$VIRTUAL_ENV``, else the interpreter
running Nexus (in-process, the fastest).

Positions in and out are the engine's: 0-based rows and UTF-8 byte columns.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from queue import SimpleQueue
from typing import Any, TypeVar

from .errors import NexusError, UnavailableError

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_COMPLETIONS = 500
_VENV_NAMES = (".venv", "venv", "env", ".env")


@dataclass(frozen=True, slots=True)
class PythonSettings:
    environment: str = ""  # a virtualenv folder or a python executable; "" detects one


@dataclass(frozen=True, slots=True)
class PyCompletion:
    name: str
    kind: str  # jedi's type: module, class, instance, function, param, path, keyword, property, statement
    detail: str
    key: int  # pass to ``resolve`` for the documentation


@dataclass(frozen=True, slots=True)
class PyName:
    path: str | None  # absolute file path; None for builtins without source
    line: int  # 0-based
    col: int  # byte column
    end_col: int
    name: str
    kind: str
    description: str
    line_text: str


@dataclass(frozen=True, slots=True)
class PySignature:
    label: str
    doc: str
    params: tuple[str, ...]
    active_param: int | None


def find_environment(root: Path, configured: str = "") -> Path | None:
    """The python executable of the project's environment, or None for the running interpreter."""
    candidates: list[Path] = []
    if configured:
        path = Path(configured).expanduser()
        candidates.append(path if path.is_absolute() else root / path)
    else:
        candidates.extend(root / name for name in _VENV_NAMES)
        if os.environ.get("VIRTUAL_ENV"):
            candidates.append(Path(os.environ["VIRTUAL_ENV"]))
    for candidate in candidates:
        for exe in (candidate, candidate / "bin" / "python", candidate / "Scripts" / "python.exe"):
            if exe.is_file() and os.access(exe, os.X_OK):
                if Path(os.path.realpath(exe)) == Path(os.path.realpath(sys.executable)):
                    return None
                return exe
    if configured:
        raise UnavailableError(f"python environment {configured!r} has no python executable")
    return None


class _Job:
    __slots__ = ("fn", "future", "key")

    def __init__(self, fn: Callable[[], Any], future: Future[Any], key: object) -> None:
        self.fn, self.future, self.key = fn, future, key


class PythonSemantics:
    """jedi for one workspace root. Every public method returns a Future resolved on the jedi thread."""

    def __init__(self, root: Path, environment: str = "") -> None:
        import jedi

        self.root = root
        exe = find_environment(root, environment)
        if exe is None:
            self.environment = jedi.api.environment.InterpreterEnvironment()
        else:
            try:
                self.environment = jedi.create_environment(str(exe), safe=False)
            except jedi.InvalidPythonEnvironment as exc:
                raise UnavailableError(f"{exe}: not a usable python environment ({exc})") from exc
        self.environment_path = str(exe) if exe else sys.executable
        self.project = jedi.Project(root, environment_path=str(exe) if exe else None)
        self._queue: SimpleQueue[_Job | None] = SimpleQueue()
        self._latest: dict[object, _Job] = {}
        self._lock = threading.Lock()
        self._completions: OrderedDict[int, Any] = OrderedDict()
        self._next_key = 0
        self._thread = threading.Thread(target=self._run, name="jedi", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._queue.put(None)

    # -- the jedi thread -------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._lock:
                if job.key is not None and self._latest.get(job.key) is job:
                    del self._latest[job.key]
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                job.future.set_result(job.fn())
            except BaseException as exc:
                job.future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))

    def submit(self, fn: Callable[[], T], key: object = None) -> Future[T]:
        """Run ``fn`` on the jedi thread; a queued job with the same ``key`` is cancelled."""
        future: Future[T] = Future()
        job = _Job(fn, future, key)
        with self._lock:
            if key is not None:
                older = self._latest.get(key)
                if older is not None:
                    older.future.cancel()
                self._latest[key] = job
        self._queue.put(job)
        return future

    def _script(self, path: str, text: str) -> Any:
        import jedi

        return jedi.Script(text, path=path, project=self.project, environment=self.environment)

    # -- features --------------------------------------------------------------------------------

    def warm_up(self) -> Future[None]:
        """Load builtins and common stubs now, so the first real request does not pay for them."""
        def run() -> None:
            script = self._script(str(self.root / "__nexus_warmup__.py"), "import os\nos.path.join('')\nstr().")
            script.complete(3, 6)
            script.get_signatures(2, 13)
        return self.submit(run, key="warm-up")

    def parse(self, path: str, text: str) -> Future[None]:
        """Parse a just-opened or edited buffer ahead of the first request (jedi caches the tree)."""
        return self.submit(lambda: (self._script(path, text), None)[1], key=("parse", path))

    def complete(self, path: str, text: str, line: int, col: int) -> Future[list[PyCompletion]]:
        def run() -> list[PyCompletion]:
            row, column = _jedi_position(text, line, col)
            found = self._script(path, text).complete(row, column)[:MAX_COMPLETIONS]
            out = []
            with self._lock:
                for item in found:
                    self._next_key += 1
                    self._completions[self._next_key] = item
                    out.append(PyCompletion(item.name, item.type, _safe(lambda i=item: i.description), self._next_key))
                while len(self._completions) > 4 * MAX_COMPLETIONS:
                    self._completions.popitem(last=False)
            return out
        return self.submit(run, key=("complete", path))

    def resolve(self, key: int) -> Future[tuple[str, str]]:
        """(signature lines, docstring) of a completion returned earlier; empty when it expired."""
        def run() -> tuple[str, str]:
            item = self._completions.get(key)
            if item is None:
                return "", ""
            signatures = "\n".join(s.to_string() for s in _safe(item.get_signatures, []))
            return signatures, _safe(lambda: item.docstring(raw=True), "")
        return self.submit(run)

    def help(self, path: str, text: str, line: int, col: int) -> Future[tuple[str, str, str] | None]:
        """(kind, signature or description, docstring) of the name at the position, or None."""
        def run() -> tuple[str, str, str] | None:
            row, column = _jedi_position(text, line, col)
            names = self._script(path, text).help(row, column)
            for name in names:
                if name.type == "keyword" and not name.docstring():
                    continue
                signatures = [s.to_string() for s in _safe(name.get_signatures, [])]
                head = "\n".join(signatures) or name.description
                return name.type, head, _safe(lambda n=name: n.docstring(raw=True), "")
            return None
        return self.submit(run, key=("help", path))

    def signatures(self, path: str, text: str, line: int, col: int) -> Future[list[PySignature]]:
        def run() -> list[PySignature]:
            row, column = _jedi_position(text, line, col)
            out = []
            for sig in self._script(path, text).get_signatures(row, column):
                params = tuple(p.to_string() for p in sig.params)
                out.append(PySignature(sig.to_string(), _safe(lambda s=sig: s.docstring(raw=True), ""), params,
                                       sig.index))
            return out
        return self.submit(run, key=("signatures", path))

    def goto(self, path: str, text: str, line: int, col: int, mode: str) -> Future[list[PyName]]:
        """``mode``: "definition" (follows imports), "declaration" (stops at them), "type" (inferred type)."""
        def run() -> list[PyName]:
            row, column = _jedi_position(text, line, col)
            script = self._script(path, text)
            if mode == "type":
                names = script.infer(row, column)
            else:
                names = script.goto(row, column, follow_imports=mode == "definition",
                                    follow_builtin_imports=mode == "definition")
            return [n for n in (_name(name) for name in names) if n is not None]
        return self.submit(run, key=("goto", path))

    def references(self, path: str, text: str, line: int, col: int, file_only: bool = False) -> Future[list[PyName]]:
        def run() -> list[PyName]:
            row, column = _jedi_position(text, line, col)
            script = self._script(path, text)
            names = script.get_references(row, column, scope="file" if file_only else "project")
            return [n for n in (_name(name) for name in names) if n is not None]
        return self.submit(run, key=("references", path, file_only))

    def renameable(self, path: str, text: str, line: int, col: int) -> Future[PyName | None]:
        """The name at the position if it can be renamed (defined in this project), else None."""
        def run() -> PyName | None:
            row, column = _jedi_position(text, line, col)
            script = self._script(path, text)
            names = script.goto(row, column)
            if not names or any(n.in_builtin_module() or n.type == "keyword" for n in names):
                return None
            for n in names:
                module = n.module_path
                if module is None or not Path(module).is_relative_to(self.root):
                    return None
            here = [n for n in script.get_references(row, column, scope="file")
                    if (n.line, n.column) <= (row, column) <= (n.line, n.column + len(n.name))]
            return _name(here[0]) if here else None
        return self.submit(run)


class PythonSemanticsError(NexusError):
    pass


def _jedi_position(text: str, line: int, col: int) -> tuple[int, int]:
    """jedi counts rows from 1 and columns in code points; the engine in rows from 0 and bytes."""
    lines = text.split("\n")
    if not 0 <= line < len(lines):
        raise PythonSemanticsError(f"line {line + 1} is past the end of the document ({len(lines)} lines)")
    encoded = lines[line].encode("utf-8", "surrogatepass")
    return line + 1, len(encoded[:max(col, 0)].decode("utf-8", "ignore"))


def _name(name: Any) -> PyName | None:
    if name.line is None or name.column is None:
        return PyName(str(name.module_path) if name.module_path else None, 0, 0, 0, name.name, name.type,
                      _safe(lambda: name.description, ""), "")
    line_text = _safe(lambda: name.get_line_code(), "").rstrip("\r\n")
    start = len(line_text[:name.column].encode("utf-8"))
    end = len(line_text[:name.column + len(name.name)].encode("utf-8"))
    return PyName(str(name.module_path) if name.module_path else None, name.line - 1, start, end, name.name,
                  name.type, _safe(lambda: name.description, ""), line_text)


def _safe(fn: Callable[[], T], default: Any = "") -> T:
    """jedi raises on odd code in places that only decorate an answer: keep the answer."""
    try:
        return fn()
    except Exception as exc:
        log.debug("jedi detail failed: %r", exc)
        return default  # type: ignore[no-any-return]
