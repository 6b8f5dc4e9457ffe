"""Python lint diagnostics from ruff (its PyPI package ships the binary), on unsaved text via stdin.

ruff runs as a subprocess with the workspace as its working folder, so the project's own ruff
configuration (pyproject.toml, ruff.toml) applies. Syntax errors are left to tree-sitter's report.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from functools import cache
from pathlib import Path

from .diagnostics import Problem
from .errors import UnavailableError
from .model import Span

log = logging.getLogger(__name__)

TIMEOUT = 15.0
_ERRORS = ("F821", "F822", "F823", "E999", "PLE")


@cache
def ruff_binary() -> str:
    """Path of the ruff executable; raises UnavailableError when the ruff package is not installed."""
    try:
        from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]
    except ImportError as exc:
        raise UnavailableError("ruff is not installed (pip install ruff)") from exc
    return os.fsdecode(find_ruff_bin())


def lint_python(root: Path, path: str, text: str, timeout: float = TIMEOUT) -> list[Problem]:
    """ruff's findings for ``text`` as the file ``path`` (relative to ``root`` or absolute).

    Raises UnavailableError when ruff cannot run or answers with something that is not its JSON.
    """
    absolute = Path(path) if Path(path).is_absolute() else root / path
    command = [ruff_binary(), "check", "--output-format=json", "--no-fix", "--exit-zero", "--quiet",
               "--stdin-filename", str(absolute), "-"]
    try:
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=root)
    except OSError as exc:
        raise UnavailableError(f"ruff did not run: {exc}") from exc
    _lower_priority(proc.pid)  # diagnostics can wait; the editor's requests cannot
    try:
        stdout, stderr = proc.communicate(text.encode("utf-8", "surrogatepass"), timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        proc.kill()
        proc.communicate()
        raise UnavailableError(f"ruff did not answer within {timeout:g} s") from exc
    if proc.returncode != 0:
        raise UnavailableError(f"ruff failed: {stderr.decode('utf-8', 'replace').strip()[:500]}")
    try:
        found = json.loads(stdout or b"[]")
    except json.JSONDecodeError as exc:
        raise UnavailableError(f"ruff printed something that is not JSON: {exc}") from exc
    lines = text.split("\n")
    out = []
    for item in found:
        code = item.get("code")
        if not code or code == "invalid-syntax":
            continue  # syntax errors: reported from tree-sitter with the other languages
        span = _span(lines, item["location"], item["end_location"])
        edits: list[tuple[Span, str]] = []
        fix = item.get("fix") or {}
        for edit in fix.get("edits") or ():
            edits.append((_span(lines, edit["location"], edit["end_location"]), edit.get("content") or ""))
        severity = "error" if code.startswith(_ERRORS) else "warning"
        out.append(Problem(span, item.get("message", ""), severity, "ruff", code, item.get("url") or "",
                           tuple(edits), fix.get("message") or ""))
    return out


def _lower_priority(pid: int) -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, pid, 10)
    except (AttributeError, OSError):  # not on this platform, or the process already ended
        pass


def _span(lines: list[str], start: dict[str, int], end: dict[str, int]) -> Span:
    """ruff counts rows from 1 and columns in characters from 1; the engine uses rows from 0 and bytes."""
    def point(location: dict[str, int]) -> tuple[int, int]:
        row = max(location.get("row", 1) - 1, 0)
        if row >= len(lines):
            return len(lines), 0
        text = lines[row]
        return row, len(text[:max(location.get("column", 1) - 1, 0)].encode("utf-8", "surrogatepass"))

    a, b = point(start), point(end)
    return Span(a[0], a[1], b[0], b[1])
