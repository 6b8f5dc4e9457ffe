"""Python semantics from jedi: completion, help, signatures, go to, references, rename.

Some of jedi's inferences take seconds (a parameter's type is searched for in every call site), so
every call runs in the jedi worker process (``jedi_process``/``jedi_worker``) and returns a Future;
callers wait as long as their latency budget allows and fall back to the index otherwise. A queued
job that a newer one of the same key makes pointless (completion after another keystroke) is dropped
before it runs; a running one can be interrupted (:meth:`PythonSemantics.interrupt`). Several
``PythonSemantics`` (one per workspace root) can share one worker process.

The project's environment is the one configured (``[python] environment`` / ``NEXUS_PYTHON_ENVIRONMENT``),
else a ``.venv``/``venv``/``env`` folder in the workspace, else ``$VIRTUAL_ENV``, else the interpreter
running Nexus (in-process, the fastest).

Positions in and out are the engine's: 0-based rows and UTF-8 byte columns.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UnavailableError
from .jedi_process import JediError, JediProcess, JobInterrupted

log = logging.getLogger(__name__)

_VENV_NAMES = (".venv", "venv", "env", ".env")


@dataclass(frozen=True, slots=True)
class PythonSettings:
    environment: str = ""  # a virtualenv folder or a python executable; "" detects one


@dataclass(frozen=True, slots=True)
class PyCompletion:
    name: str
    kind: str  # jedi's type: module, class, instance, function, param, path, keyword, property, statement
    key: int  # pass to ``resolve`` for the signature and documentation


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


class PythonSemantics:
    """jedi for one workspace root. Every public method returns a Future resolved off the caller's
    thread; ``process`` is the worker to share (one is started and owned otherwise)."""

    def __init__(self, root: Path, environment: str = "", process: JediProcess | None = None) -> None:
        self.root = root
        exe = find_environment(root, environment)
        self.environment_path = str(exe) if exe else sys.executable
        self._project = (str(root), str(exe) if exe else None)
        self._owned = process is None
        self.process = process if process is not None else JediProcess()

    def close(self) -> None:
        if self._owned:
            self.process.close()

    def interrupt(self, future: Future[Any], reason: str = "cancelled") -> bool:
        """Stop the work behind ``future`` (dropped if queued, interrupted if running)."""
        return self.process.interrupt(future, reason)

    def abandon(self, future: Future[Any]) -> None:
        """The caller answered without ``future``; a newer request may interrupt it."""
        self.process.abandon(future)

    def _doc(self, op: str, path: str, text: str, *args: Any, key: object = None,
             convert: Callable[[Any], Any] | None = None, background: bool = False) -> Future[Any]:
        return self.process.submit(op, self._project, path, text, self.process.generation, *args, key=key,
                                   convert=convert, background=background)

    # -- features --------------------------------------------------------------------------------

    def warm_up(self) -> Future[None]:
        """Load builtins and common stubs now, so the first real request does not pay for them."""
        return self.process.submit("warm_up", self._project, str(self.root / "__nexus_warmup__.py"),
                                   key=("warm-up", self._project), background=True)

    def parse(self, path: str, text: str) -> Future[int]:
        """Parse a just-opened buffer and load its imports ahead of the first request (the worker
        keeps the Script); resolves to the number of imports loaded."""
        return self._doc("parse", path, text, key=("parse", path), background=True)

    def complete(self, path: str, text: str, line: int, col: int) -> Future[list[PyCompletion]]:
        return self._doc("complete", path, text, line, col, key=("complete", path),
                         convert=lambda raw: [PyCompletion(*item) for item in raw])

    def resolve(self, key: int) -> Future[tuple[str, str]]:
        """(signature lines, docstring) of a completion returned earlier; empty when it expired."""
        return self.process.submit("resolve", key, convert=lambda raw: (raw[0], raw[1]))

    def help(self, path: str, text: str, line: int, col: int) -> Future[tuple[str, str, str] | None]:
        """(kind, signature or description, docstring) of the name at the position, or None."""
        return self._doc("help", path, text, line, col, key=("help", path),
                         convert=lambda raw: tuple(raw) if raw is not None else None)

    def signatures(self, path: str, text: str, line: int, col: int) -> Future[list[PySignature]]:
        return self._doc("signatures", path, text, line, col, key=("signatures", path),
                         convert=lambda raw: [PySignature(*item) for item in raw])

    def goto(self, path: str, text: str, line: int, col: int, mode: str) -> Future[list[PyName]]:
        """``mode``: "definition" (follows imports), "declaration" (stops at them), "type" (inferred type)."""
        return self._doc("goto", path, text, line, col, mode, key=("goto", path), convert=_names)

    def references(self, path: str, text: str, line: int, col: int, file_only: bool = False) -> Future[list[PyName]]:
        return self._doc("references", path, text, line, col, file_only, key=("references", path, file_only),
                         convert=_names)

    def renameable(self, path: str, text: str, line: int, col: int) -> Future[PyName | None]:
        """The name at the position if it can be renamed (defined in this project), else None."""
        return self._doc("renameable", path, text, line, col,
                         convert=lambda raw: PyName(*raw) if raw is not None else None)


__all__ = ["JediError", "JobInterrupted", "PyCompletion", "PyName", "PySignature", "PythonSemantics",
           "PythonSettings", "find_environment"]


def _names(raw: list[tuple[Any, ...]]) -> list[PyName]:
    return [PyName(*item) for item in raw]
