"""The operations added for the agent, called directly: code navigation at a position, file ranges,
diagnostics and test runs, with their bad inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nexus.engine.config import Settings
from nexus.services import Backends, Call, OperationError, Registry


async def result(repo: Path, name: str, payload: dict[str, Any]) -> Any:
    backends = Backends.open(repo, Settings({}), providers=False)
    try:
        return await Registry.default().result(name, payload, Call(backends))
    finally:
        await backends.aclose()


async def test_definition_references_and_hover_at_a_position(repo: Path) -> None:
    use = {"path": "tests/test_calc.py", "line": 5, "column": 12}  # `add` in `assert add(2, 3) == 5`
    [found] = (await result(repo, "code.definition", use))["locations"]
    assert (found["path"], found["line"], found["column"], found["text"]) == ("calc.py", 1, 5, "def add(a, b):")
    refs = (await result(repo, "code.references", {"path": "calc.py", "line": 1, "column": 5}))["locations"]
    assert [(r["path"], r["line"]) for r in refs] == [("calc.py", 1), ("tests/test_calc.py", 1),
                                                     ("tests/test_calc.py", 5), ("tests/test_calc.py", 9)]
    hover = await result(repo, "code.hover", use)
    assert (hover["name"], hover["kind"], hover["signature"]) == ("add", "function", "def add(a, b)")
    nothing = await result(repo, "code.hover", {"path": "calc.py", "line": 3, "column": 1})
    assert nothing["definition"] is None


async def test_ranges_diagnostics_and_tests(repo: Path) -> None:
    part = await result(repo, "files.range", {"path": "tests/test_calc.py", "startLine": 4, "endLine": 5})
    assert part["text"] == "def test_add():\n    assert add(2, 3) == 5\n" and part["totalLines"] == 13
    past = await result(repo, "files.range", {"path": "calc.py", "startLine": 100})
    assert past["text"] == "" and past["endLine"] == 0
    (repo / "broken.py").write_text("def f(:\n    return 1\n")
    problems = (await result(repo, "diagnostics", {"path": "broken.py"}))["problems"]
    assert problems and problems[0]["source"] == "syntax" and problems[0]["line"] == 1
    run = await result(repo, "tests.run", {"paths": ["tests/test_calc.py"]})
    assert (run["passed"], run["failed"], run["exitCode"]) == (2, 1, 1) and "test_add" in run["output"]
    assert not list(repo.rglob("__pycache__")), "the run wrote into the user's tree"


@pytest.mark.parametrize(("name", "payload", "code"), [
    ("code.definition", {"path": "../x.py", "line": 1, "column": 1}, "invalid_path"),
    ("code.definition", {"path": "calc.py", "line": 0, "column": 1}, "bad_request"),
    ("files.range", {"path": "/etc/passwd"}, "invalid_path"),
    ("tests.run", {"paths": ["../elsewhere/test_x.py"]}, "invalid_path"),
    ("edit.apply", {"edits": [{"path": "calc.py", "oldText": "nope", "newText": "x"}]}, "bad_request"),
])
async def test_bad_input(repo: Path, name: str, payload: dict[str, Any], code: str) -> None:
    with pytest.raises(OperationError) as failed:
        await result(repo, name, payload)
    assert failed.value.code.value == code, failed.value.message
