"""``diagnostics``: the problems of a workspace file as the language server reports them (syntax errors
from tree-sitter, ruff's findings for Python), lines 1-based, columns 1-based UTF-8 bytes."""

from __future__ import annotations

import asyncio
import dataclasses

from nexus.engine.paths import read_text_inside

from ..call import Call
from ..codec import WIRE, PathText
from ..identity import Role
from ..operation import operation


@dataclasses.dataclass(frozen=True, slots=True)
class DiagnosticsParams:
    __pydantic_config__ = WIRE
    path: PathText


@dataclasses.dataclass(frozen=True, slots=True)
class Diagnostic:
    __pydantic_config__ = WIRE
    line: int
    column: int
    end_line: int
    end_column: int
    severity: str
    source: str
    code: str
    message: str


@dataclasses.dataclass(frozen=True, slots=True)
class DiagnosticsResult:
    __pydantic_config__ = WIRE
    path: str
    problems: tuple[Diagnostic, ...]


@operation("diagnostics", params=DiagnosticsParams, result=DiagnosticsResult, role=Role.VIEWER, rate="read",
           message="diagnostics:get")
async def diagnostics(call: Call, p: DiagnosticsParams) -> DiagnosticsResult:
    """A file's syntax errors and lint findings (ruff for Python)."""
    root = call.backends.workspace.root.resolve()
    real, content = await asyncio.to_thread(read_text_inside, root, p.path)
    rel = real.relative_to(root).as_posix()
    return DiagnosticsResult(rel, tuple(await asyncio.to_thread(_problems, root, rel, content)))


def _problems(root: object, rel: str, text: str) -> list[Diagnostic]:
    from pathlib import Path

    from nexus.engine.diagnostics import syntax_errors
    from nexus.engine.errors import NexusError
    from nexus.engine.languages import language_for
    from nexus.engine.source import SourceFile

    language = language_for(rel)
    found = list(syntax_errors(SourceFile(rel, text, language))) if language else []
    if language == "python":
        from nexus.engine.lint import lint_python

        try:
            found += lint_python(Path(str(root)), rel, text)
        except NexusError:
            pass  # no ruff: syntax errors only
    return [Diagnostic(d.span.start_line + 1, d.span.start_col + 1, d.span.end_line + 1, d.span.end_col + 1,
                       d.severity, d.source, d.code, d.message) for d in found]
