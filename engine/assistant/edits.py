"""Turning a model's answer into edits: the code block it holds, re-indented to where it goes.

Edit tasks ask for one fenced code block replacing the code in question (whole lines). Models vary in
how well they follow that: the longest fenced block wins, an answer with no fence at all is taken as
code, and a fence left open (the answer hit its token limit) is refused rather than half applied.
Indentation is normalised to the replaced lines' own, because a model often returns a method without
its class's indentation.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from nexus.engine import languages
from nexus.engine.model import Span

from .grounding import Focus
from .model import FileEdit, NoEditError

_FENCE = re.compile(r"^([ \t]*)(```+|~~~+)[^\n]*\n(.*?)^\1\2[ \t]*$", re.DOTALL | re.MULTILINE)
_OPEN_FENCE = re.compile(r"^[ \t]*(```+|~~~+)", re.MULTILINE)


def extract_code(answer: str) -> tuple[str, str]:
    """(code, note): the longest fenced block and the prose around it. Raises NoEditError when the
    answer is empty or a fence was opened and never closed."""
    blocks = list(_FENCE.finditer(answer))
    if blocks:
        best = max(blocks, key=lambda m: len(m.group(3)))
        note = (answer[:best.start()] + answer[best.end():]).strip()
        return best.group(3), note
    if _OPEN_FENCE.search(answer):
        raise NoEditError("the model's answer was cut off before its code block ended; try a smaller selection")
    if not answer.strip():
        raise NoEditError("the model answered with no code")
    return answer.strip("\n") + "\n", ""


def _indent_of(line: str) -> str:
    return line[:len(line) - len(line.lstrip(" \t"))]


def reindent(code: str, indent: str) -> str:
    """``code`` with its common indentation replaced by ``indent`` (blank lines left empty)."""
    lines = code.split("\n")
    present = [_indent_of(line) for line in lines if line.strip()]
    if not present:
        return code
    common = min(present, key=len)
    while not all(p.startswith(common) for p in present):
        common = common[:-1]
    out = [(indent + line[len(common):]) if line.strip() else "" for line in lines]
    return "\n".join(out)


def replacement(focus: Focus, answer: str, document_text: str) -> tuple[FileEdit, str]:
    """The edit replacing the focus lines with the answer's code, and the answer's note."""
    code, note = extract_code(answer)
    first = next((line for line in focus.text.split("\n") if line.strip()), "")
    code = reindent(code.rstrip("\n"), _indent_of(first))
    rows = document_text.split("\n")
    if focus.end_line + 1 < len(rows):
        span = Span(focus.start_line, 0, focus.end_line + 1, 0)
        code += "\n"
    else:  # the focus runs to the end of a file without a final newline
        span = Span(focus.start_line, 0, focus.end_line, len(rows[focus.end_line].encode("utf-8")))
    return FileEdit(focus.path, code, span), note


def location_of_tests(path: str, language: str | None, has_tests_folder: bool) -> str:
    """Where tests for ``path`` go, by the language's habits (its ``TestLayout``): ``tests/test_x.py`` (or
    ``test_x.py`` next to the file without a tests folder), ``x.test.ts``, ``XTest.java``, ``x_test.cpp``.
    A file in no language Nexus knows gets ``test_x`` next to it."""
    found = languages.lookup(language) or languages.for_path(path)
    if found is not None:
        return found.tests.test_path(path, has_tests_folder)
    p = PurePosixPath(path)
    return str(p.with_name(f"test_{p.stem}{p.suffix}"))


def edit_for_tests(test_path: str, answer: str, existing: str | None) -> tuple[FileEdit, str]:
    """A new test file with the answer's code, or the code appended to the existing file."""
    code, note = extract_code(answer)
    code = reindent(code.rstrip("\n"), "") + "\n"
    if existing is None:
        return FileEdit(test_path, code, None, create=True), note
    rows = existing.split("\n")
    end = Span(len(rows) - 1, len(rows[-1].encode("utf-8")), len(rows) - 1, len(rows[-1].encode("utf-8")))
    separator = "\n\n" if existing.endswith("\n") else "\n\n\n"
    if not existing.strip():
        separator = ""
    return FileEdit(test_path, separator + code, end), note
