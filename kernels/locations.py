"""Where a program's errors are, read from what its toolchain printed, in the toolchain's own words.

A file run prints tracebacks, compiler diagnostics and stack traces naming the user's files; this
module finds them so every face can point at them (``errors`` in the JSON result, LSP diagnostics):

- Python: the innermost traceback frame in a user file (and ``SyntaxError`` locations), the column
  from the caret line Python 3.11+ prints under the code;
- Node.js / TypeScript: the first stack frame in a user file (TypeScript positions come through source
  maps), else the ``path:line`` header and caret Node prints for a syntax error; TypeScript syntax
  errors as ``path:line:col - error TS1005: ...``;
- g++ / gcc: ``path:line:col: error: ...`` and UBSan's ``path:line:col: runtime error: ...``;
- javac: ``path:line: error: ...`` with the caret line giving the column; the JVM's
  ``Exception in thread "main" ...`` with the first ``at`` frame whose source is a user file.

A "user file" is a file under one of the run's folders (the file's folder, the working folder, the
workspace) and not inside an interpreter's own libraries.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from .results import SourceError, strip_ansi

_LIBRARY_MARKS = (f"{os.sep}site-packages{os.sep}", f"{os.sep}dist-packages{os.sep}", f"{os.sep}node_modules{os.sep}")


class _Places:
    """Resolves the paths a toolchain prints and says which are the user's."""

    def __init__(self, roots: Iterable[Path], cwd: Path) -> None:
        self.cwd = cwd
        self.roots = [os.path.realpath(r) for r in roots]
        # an interpreter's own libraries, unless a root is inside them
        libraries = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
        self.libraries = [lib for lib in libraries if not any(_under(r, lib) for r in self.roots)]

    def user_file(self, printed: str) -> str | None:
        """The printed path, made absolute, when it names an existing user file; else None."""
        path = os.path.normpath(printed if os.path.isabs(printed) else str(self.cwd / printed))
        real = os.path.realpath(path)
        if any(mark in real for mark in _LIBRARY_MARKS) or any(_under(real, lib) for lib in self.libraries):
            return None
        if not any(_under(real, r) for r in self.roots):
            return None
        return path if os.path.isfile(path) else None


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def find_errors(language: str, output: str, roots: Sequence[Path], cwd: Path) -> tuple[SourceError, ...]:
    """The errors a run of ``language`` printed in ``output`` (stdout and stderr, in order), user files only."""
    places = _Places(roots, cwd)
    text = strip_ansi(output)
    finder = {"python": _python, "javascript": _node, "typescript": _typescript, "cpp": _gcc, "java": _java}.get(language)
    if finder is None:
        return ()
    found: list[SourceError] = []
    for error in finder(text, places):
        if error not in found:
            found.append(error)
    return tuple(found)


def _source_line(path: str, line: int) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for number, text in enumerate(fh, 1):
                if number == line:
                    return text.rstrip("\n")
    except OSError:
        return None
    return None


# --- Python -------------------------------------------------------------------------------------

_PY_FRAME = re.compile(r'^  File "(?P<path>[^"]+)", line (?P<line>\d+)')
_PY_CARETS = re.compile(r"^\s*[~^]+\s*$")


def _python(text: str, places: _Places) -> list[SourceError]:
    lines = text.splitlines()
    found: list[SourceError] = []
    block: list[tuple[str, int, int | None]] = []  # the user frames of the traceback being read
    for index, line in enumerate(lines):
        frame = _PY_FRAME.match(line)
        if frame:
            path = places.user_file(frame["path"])
            if path is not None:
                block.append((path, int(frame["line"]), _python_column(lines, index, path, int(frame["line"]))))
            continue
        if block and line and not line.startswith(" ") and not line.startswith("Traceback"):
            if re.match(r"^[A-Za-z_][\w.]*(: |$)", line):  # the exception line ends the traceback
                path, number, column = block[-1]
                found.append(SourceError(path, number, column, line.strip()))
            block = []
    return found


def _python_column(lines: list[str], index: int, path: str, number: int) -> int | None:
    """The column of the carets under the frame's code line (Python shows that line without indent)."""
    if index + 2 >= len(lines) or not _PY_CARETS.match(lines[index + 2]):
        return None
    shown, carets = lines[index + 1], lines[index + 2]
    offset = len(carets) - len(carets.lstrip()) - (len(shown) - len(shown.lstrip()))
    source = _source_line(path, number) or ""
    return len(source) - len(source.lstrip()) + offset + 1


# --- Node.js and TypeScript ---------------------------------------------------------------------

_NODE_HEADER = re.compile(r"^(?P<path>/[^\n]*?):(?P<line>\d+)$")
_NODE_FRAME = re.compile(r"^\s+at (?:.*? \()?(?:file://)?(?P<path>/[^():]+):(?P<line>\d+):(?P<column>\d+)\)?$")
_NODE_MESSAGE = re.compile(r"^(?:Uncaught )?(?:[A-Za-z_$][\w$.]*)?(?:Error|Exception)\b.*$")
_TS_DIAGNOSTIC = re.compile(
    r"^(?P<path>[^\n]+?):(?P<line>\d+):(?P<column>\d+) - error (?P<message>TS\d+: .*)$", re.MULTILINE
)


def _typescript(text: str, places: _Places) -> list[SourceError]:
    found = []
    for match in _TS_DIAGNOSTIC.finditer(text):
        path = places.user_file(match["path"])
        if path is not None:
            found.append(SourceError(path, int(match["line"]), int(match["column"]), f"error {match['message']}"))
    return found + _node(text, places)


def _node(text: str, places: _Places) -> list[SourceError]:
    """Each error line (``TypeError: ...`` at column 0) with the first of its stack frames in a user file;
    without one (a syntax error), the ``path:line`` header and caret Node printed above it."""
    lines = text.splitlines()
    found: list[SourceError] = []
    header: tuple[str | None, int, int | None] | None = None
    for index, line in enumerate(lines):
        top = _NODE_HEADER.match(line)
        if top:
            carets = lines[index + 2] if index + 2 < len(lines) else ""
            column = len(carets) - len(carets.lstrip()) + 1 if carets.strip() and set(carets.strip()) == {"^"} else None
            header = (places.user_file(top["path"]), int(top["line"]), column)
            continue
        if not _NODE_MESSAGE.match(line):
            continue
        frame = None
        for later in lines[index + 1:index + 80]:
            at = _NODE_FRAME.match(later)
            if at is None:
                if later.startswith((" ", "\t")):
                    continue
                break
            path = places.user_file(at["path"])
            if path is not None:
                frame = SourceError(path, int(at["line"]), int(at["column"]), line.strip())
                break
        if frame is not None:
            found.append(frame)
        elif header is not None and header[0] is not None:
            found.append(SourceError(header[0], header[1], header[2], line.strip()))
        header = None
    return found


# --- g++ / gcc ----------------------------------------------------------------------------------

_GCC = re.compile(
    r"^(?P<path>[^:\n]+):(?P<line>\d+):(?P<column>\d+): (?P<kind>(?:fatal )?error|runtime error): (?P<message>.*)$",
    re.MULTILINE,
)


def _gcc(text: str, places: _Places) -> list[SourceError]:
    found = []
    for match in _GCC.finditer(text):
        path = places.user_file(match["path"])
        if path is not None:
            message = match["message"] if match["kind"] != "runtime error" else f"runtime error: {match['message']}"
            found.append(SourceError(path, int(match["line"]), int(match["column"]), message))
    return found


# --- Java ---------------------------------------------------------------------------------------

_JAVAC = re.compile(r"^(?P<path>[^:\n]+\.java):(?P<line>\d+): error: (?P<message>.*)$")
_JAVA_THROWN = re.compile(r'^Exception in thread "[^"]*" (?P<message>.*)$')
_JAVA_FRAME = re.compile(r"^\s+at (?:[\w.$/@]+/)?(?P<method>[\w$.<>]+)\((?P<file>[\w$]+\.java):(?P<line>\d+)\)$")


def _java(text: str, places: _Places) -> list[SourceError]:
    lines = text.splitlines()
    found: list[SourceError] = []
    for index, line in enumerate(lines):
        compiled = _JAVAC.match(line)
        if compiled:
            path = places.user_file(compiled["path"])
            if path is None:
                continue
            column = None
            if index + 2 < len(lines) and lines[index + 2].strip() == "^":
                column = lines[index + 2].index("^") + 1
            found.append(SourceError(path, int(compiled["line"]), column, compiled["message"]))
            continue
        thrown = _JAVA_THROWN.match(line)
        if thrown:
            for later in lines[index + 1:index + 200]:
                at = _JAVA_FRAME.match(later)
                if at is None:
                    if later.startswith("\t") or later.startswith("    "):
                        continue
                    break
                path = _java_source(at["method"], at["file"], places)
                if path is not None:
                    found.append(SourceError(path, int(at["line"]), None, thrown["message"]))
                    break
    return found


def _java_source(method: str, file: str, places: _Places) -> str | None:
    """The user source a frame names by file name only: under a root, in its package's folder."""
    package = method.rpartition(".")[0].rpartition(".")[0]  # pkg.Main.main -> pkg
    relative = Path(*package.split("."), file) if package else Path(file)
    for root in places.roots:
        for candidate in (Path(root) / relative, Path(root) / file):
            found = places.user_file(str(candidate))
            if found is not None:
                return found
    return None
