"""From model answers to edits and ghost text: code blocks, indentation, where tests go, FIM trimming."""

from __future__ import annotations

import pytest

from nexus.engine.assistant import NoEditError, clean_completion, extract_code, fim_parts, location_of_tests, reindent
from nexus.engine.assistant.edits import edit_for_tests, replacement
from nexus.engine.assistant.grounding import Focus
from nexus.engine.model import Span


def test_the_longest_fenced_block_is_the_code_and_the_rest_is_the_note() -> None:
    answer = "Added a guard.\n\n```python\ndef f(x):\n    if x is None:\n        return 0\n    return x\n```\n\n" \
             "Example:\n```\nf(None)\n```\n"
    code, note = extract_code(answer)
    assert code == "def f(x):\n    if x is None:\n        return 0\n    return x\n"
    assert note.startswith("Added a guard.") and "f(None)" in note
    assert extract_code("~~~js\nlet a = 1;\n~~~") == ("let a = 1;\n", "")
    assert extract_code("def g():\n    pass") == ("def g():\n    pass\n", "")
    with pytest.raises(NoEditError, match="cut off"):
        extract_code("Here:\n```python\ndef f(x):\n    return")
    with pytest.raises(NoEditError, match="no code"):
        extract_code("  \n")


def test_reindent_moves_the_block_to_the_target_indentation() -> None:
    assert reindent("def m(self):\n    return 1\n\n    # tail", "    ") == \
        "    def m(self):\n        return 1\n\n        # tail"
    assert reindent("        x = 1\n        y = 2", "") == "x = 1\ny = 2"
    assert reindent("\tif a:\n\t\tb()", "  ") == "  if a:\n  \tb()"


def test_a_replacement_covers_whole_lines_and_keeps_the_file_ending() -> None:
    text = "class A:\n    def m(self):\n        return 1\n\n    def n(self):\n        return 2"
    focus = Focus("a.py", 1, 2, "    def m(self):\n        return 1\n", "definition", "method A.m")
    edit, note = replacement(focus, "Docstring added.\n```python\ndef m(self):\n    \"\"\"One.\"\"\"\n    return 1\n```",
                             text)
    assert edit.span == Span(1, 0, 3, 0) and note == "Docstring added."
    assert edit.text == '    def m(self):\n        """One."""\n        return 1\n'
    last = Focus("a.py", 4, 5, "    def n(self):\n        return 2", "definition", "method A.n")
    at_end, _ = replacement(last, "```\ndef n(self):\n    return 3\n```", text)
    assert at_end.span == Span(4, 0, 5, len("        return 2")) and at_end.text == "    def n(self):\n        return 3"


def test_tests_go_where_each_language_keeps_them_and_append_to_an_existing_file() -> None:
    assert location_of_tests("pkg/geometry.py", "python", True) == "tests/test_geometry.py"
    assert location_of_tests("pkg/geometry.py", "python", False) == "pkg/test_geometry.py"
    assert location_of_tests("web/util.ts", "typescript", True) == "web/util.test.ts"
    assert location_of_tests("src/Main.java", "java", False) == "src/MainTest.java"
    assert location_of_tests("src/vec.cpp", "cpp", False) == "src/vec_test.cpp"
    new, _ = edit_for_tests("tests/test_g.py", "```python\ndef test_a():\n    assert True\n```", None)
    assert new.create and new.span is None and new.text == "def test_a():\n    assert True\n"
    appended, _ = edit_for_tests("tests/test_g.py", "```python\ndef test_b():\n    pass\n```", "import x\n")
    assert not appended.create and appended.span == Span(1, 0, 1, 0)
    assert appended.text == "\n\ndef test_b():\n    pass\n"


def test_fim_parts_keep_whole_lines_within_their_budgets() -> None:
    text = "".join(f"line{i} = {i}\n" for i in range(100))
    offset = text.index("line50 = 50") + len("line50 =")
    parts = fim_parts(text, offset, lambda s: len(s.split()), 30, 9)
    assert parts.prefix.endswith("line50 =") and parts.suffix.startswith(" 50\n")
    # The cursor's line costs 2 "tokens", each other line 3: 9 more lines fit in 30, then 2 after it in 9.
    assert parts.prefix.count("\n") == 9 and parts.first_row == 41
    assert parts.suffix.count("\n") == 2 and parts.last_row == 52
    assert parts.tokens == 29 + 7


def test_clean_completion_drops_fences_echoes_and_what_follows_the_cursor() -> None:
    assert clean_completion("```python\nreturn a + b\n```", "def add(a, b):\n    ", "\n") == "return a + b"
    assert clean_completion("    total = a + b", "def f():\n    total = ", "") == "a + b"
    assert clean_completion("a, b)", "print(", ")") == "a, b"
    assert clean_completion("x + 1)\n", "f(", ")\nnext()") == "x + 1"
    # A tail that merely resembles the next line is kept.
    assert clean_completion("return x", "def f(x):\n    ", "\nx = 2") == "return x"
    assert clean_completion("   \n", "a = ", "") == ""
