"""Checking a change in an overlay: it parses, its diagnostics are not worse, and the tests it touches
pass. The verdict is one sentence for the user ("verified: 3 passed (pytest)" / "not verified: ...")
plus every check's detail."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path

from nexus.engine.config import Settings
from nexus.engine.errors import NexusError

from .edits import FileChange
from .overlay import Overlay
from .testrun import TestRun, detect_tests, interpreter_for, pytest_targets, run_tests

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class Check:
    name: str  # parse, diagnostics, tests
    ok: bool
    detail: str


@dataclasses.dataclass(frozen=True, slots=True)
class Verification:
    verified: bool
    summary: str
    checks: tuple[Check, ...]
    tests: TestRun | None = None


def problems(root: Path, path: str, text: str) -> tuple[int, int]:
    """(syntax errors, lint findings) of ``text`` as file ``path``; lint only where a linter runs (ruff for
    Python)."""
    from nexus.engine.diagnostics import syntax_errors
    from nexus.engine.languages import language_for
    from nexus.engine.source import SourceFile

    language = language_for(path)
    syntax = len(syntax_errors(SourceFile(path, text, language))) if language else 0
    lint = 0
    if language == "python":
        from nexus.engine.lint import lint_python

        try:
            lint = len(lint_python(root, path, text))
        except NexusError as exc:
            log.info("no lint for %s: %s", path, exc)
    return syntax, lint


async def verify(root: Path, settings: Settings, changes: Sequence[FileChange], *, run: bool = True,
                 timeout: float = 120.0) -> Verification:
    """Apply ``changes`` to an overlay of ``root`` and check them; ``run=False`` skips the tests."""
    checks: list[Check] = []
    syntax_worse, lint_worse = [], []
    for change in changes:
        before = await asyncio.to_thread(problems, root, change.path, change.before or "")
        after = await asyncio.to_thread(problems, root, change.path, change.after)
        if after[0] > (before[0] if change.before is not None else 0):
            syntax_worse.append(f"{change.path} ({after[0]} syntax errors, was {before[0]})")
        if after[1] > before[1]:
            lint_worse.append(f"{change.path} ({after[1]} findings, was {before[1]})")
    checks.append(Check("parse", not syntax_worse, "does not parse: " + ", ".join(syntax_worse) if syntax_worse
                        else "every changed file parses"))
    checks.append(Check("diagnostics", not lint_worse, "more problems: " + ", ".join(lint_worse) if lint_worse
                        else "no new problems"))
    tests: TestRun | None = None
    if run and not syntax_worse:
        overlay = await asyncio.to_thread(Overlay, root)
        try:
            await asyncio.to_thread(overlay.apply, changes)
            command = detect_tests(overlay.root, interpreter_for(root))  # the overlay has no .venv
            if command is None:
                checks.append(Check("tests", False, "no test command found (pytest, npm test, mvn, ctest)"))
            else:
                targets = pytest_targets(overlay.root, [c.path for c in changes]) if command.targets_files else []
                tests = await run_tests(overlay.root, settings, command, targets, timeout)
                checks.append(Check("tests", tests.ok, tests.summary()))
        finally:
            await asyncio.to_thread(overlay.close)
    elif run:
        checks.append(Check("tests", False, "not run: the change does not parse"))
    failed = [c for c in checks if not c.ok]
    if failed:
        summary = "not verified: " + "; ".join(c.detail for c in failed)
    else:
        summary = "verified: " + (tests.summary() if tests else "parses, no new problems (tests not run)")
    return Verification(not failed and (tests is not None or not run), summary, tuple(checks), tests)
