"""Grounding on a real index: which code is the focus, what the workspace adds, the budget, the receipt."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nexus.engine import Workspace
from nexus.engine.assistant import AssistantError, AssistRequest, Diagnostic, Document, Task, find_focus, ground
from nexus.engine.context import counter_for
from nexus.engine.model import Span

from .conftest import GEOMETRY, REPORT

COUNTER = counter_for(None)


@pytest.fixture
def ws(project: Path) -> Iterator[Workspace]:
    with Workspace.open(project) as workspace:
        yield workspace


def doc(path: str, text: str) -> Document:
    return Document(path, text, "python")


def row(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.split("\n")) if needle in line)


def test_the_focus_is_the_definition_around_the_cursor_or_the_selection() -> None:
    geometry = doc("pkg/geometry.py", GEOMETRY)
    at_return = (row(GEOMETRY, "return math.pi"), 8)
    focus = find_focus(AssistRequest(Task.CHAT, "why", geometry, cursor=at_return), COUNTER, 1000)
    assert focus is not None and focus.kind == "definition"
    assert (focus.start_line, focus.end_line) == (row(GEOMETRY, "def area"), row(GEOMETRY, "return math.pi"))
    assert focus.reason == "method Circle.area around the cursor" and focus.tokens == COUNTER.count(focus.text)
    selection = Span(row(GEOMETRY, "def scale"), 0, row(GEOMETRY, "return Circle(circle"), 4)
    picked = find_focus(AssistRequest(Task.EXPLAIN, "", geometry, selection), COUNTER, 1000)
    assert picked is not None and picked.kind == "selection"
    assert picked.text == "def scale(circle: Circle, factor: float) -> Circle:\n    return Circle(circle.radius * factor)\n"
    # A selection ending at column 0 of the next line does not take that line.
    whole_lines = Span(row(GEOMETRY, "def scale"), 0, row(GEOMETRY, "return Circle(circle") + 1, 0)
    assert find_focus(AssistRequest(Task.EXPLAIN, "", geometry, whole_lines), COUNTER, 1000) == picked


def test_a_fix_focuses_on_the_function_with_the_problem_and_a_docstring_needs_a_definition() -> None:
    geometry = doc("pkg/geometry.py", GEOMETRY)
    line = row(GEOMETRY, "return Circle(circle")
    problem = Diagnostic("undefined name", Span(line, 11, line, 17))
    focus = find_focus(AssistRequest(Task.FIX, document=geometry, diagnostic=problem), COUNTER, 1000)
    assert focus is not None and focus.start_line == row(GEOMETRY, "def scale") and focus.end_line == line
    with pytest.raises(AssistantError, match="function or class"):
        find_focus(AssistRequest(Task.DOCSTRING, document=geometry, cursor=(row(GEOMETRY, "import math"), 0)),
                   COUNTER, 1000)
    tests_anywhere = find_focus(AssistRequest(Task.TESTS, document=geometry, cursor=(0, 0)), COUNTER, 1000)
    assert tests_anywhere is not None and tests_anywhere.kind == "file"


def test_a_focus_too_large_for_the_budget_is_cut_around_the_cursor() -> None:
    long_text = "".join(f"value_{i} = {i}  # some commentary to make the line longer\n" for i in range(400))
    focus = find_focus(AssistRequest(Task.CHAT, "q", doc("big.py", long_text), cursor=(200, 0)), COUNTER, 150)
    assert focus is not None and focus.tokens <= 150 and focus.start_line <= 200 <= focus.end_line
    assert focus.reason.endswith("(cut to fit the budget)")
    assert focus.text == "".join(long_text.splitlines(keepends=True)[focus.start_line:focus.end_line + 1])


def test_the_workspace_adds_definitions_used_at_the_cursor_within_the_budget(ws: Workspace) -> None:
    report = doc("pkg/report.py", REPORT)
    request = AssistRequest(Task.CHAT, "what does describe print?", report, cursor=(row(REPORT, "circle.area()"), 30))
    grounding = ground(ws, request, 3000, COUNTER)
    receipt = grounding.receipt
    assert receipt[0].path == "pkg/report.py" and receipt[0].reason == "function describe around the cursor"
    definitions = {(e.path, e.start_line) for e in receipt if e.kind == "definition"}
    assert ("pkg/geometry.py", row(GEOMETRY, "class Circle")) in definitions
    assert grounding.tokens <= 3000 and grounding.tokens == sum(e.tokens for e in receipt)
    assert '<piece path="pkg/geometry.py"' in grounding.context_text
    # Nothing of the indexed copy of the focus lines comes back from the index: the live text is the focus.
    focus = grounding.focus
    assert focus is not None
    assert not [e for e in receipt[1:] if e.path == focus.path and e.start_line <= focus.end_line
                and e.end_line >= focus.start_line]
    small = ground(ws, request, 200, COUNTER)
    assert small.tokens <= 200


def test_unsaved_text_is_the_focus_and_a_new_file_still_gets_context(ws: Workspace) -> None:
    text = REPORT + "\ndef perimeter_of(circle: Circle) -> float:\n    return 2 * circle.radius\n"
    request = AssistRequest(Task.EXPLAIN, "", doc("pkg/report.py", text), cursor=(row(text, "2 * circle"), 4))
    grounding = ground(ws, request, 3000, COUNTER)
    assert grounding.focus is not None and "perimeter_of" in grounding.focus.text
    new_file = AssistRequest(Task.CHAT, "how do I scale a Circle?", doc("pkg/new.py", "from pkg.geometry import scale\n"),
                             cursor=(0, 0))
    found = ground(ws, new_file, 3000, COUNTER)
    assert any(e.path == "pkg/geometry.py" for e in found.receipt), found.receipt


def test_without_an_index_or_a_workspace_only_the_focus_is_sent(tmp_path: Path) -> None:
    request = AssistRequest(Task.CHAT, "what is this?", doc("x.py", "def f():\n    return 1\n"), cursor=(1, 4))
    alone = ground(None, request, 3000, COUNTER)
    assert [e.path for e in alone.receipt] == ["x.py"] and alone.context_text == ""
    assert alone.note == "no workspace folder holds this file"
    (tmp_path / "empty").mkdir()
    with Workspace.open(tmp_path / "empty") as empty:
        unindexed = ground(empty, request, 3000, COUNTER)
    assert [e.path for e in unindexed.receipt] == ["x.py"] and "not indexed" in unindexed.note
