"""Tests and their subjects, from the language registry's test layout (``Language.tests``) and from
what a test imports: ``test_x.py`` tests ``x.py``, ``FooTest.java`` tests ``Foo.java``, ``x.test.js``
tests ``x.js``. A request that does not ask about tests should find the implementation above its tests;
one that does ("add a test for", "failing test") keeps them where they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import PurePosixPath

from ..languages import for_path as language_for

_TEST_DIRS = frozenset({"test", "tests", "__tests__", "spec", "specs", "testing", "testsuite", "t"})
_ABOUT_TESTS = re.compile(
    r"\b(add(ed|s)?|writ(e|es|ing)|new|fail(ing|ed|s)?|flaky|broken|fix(es|ed)?|missing|more|extend|improve)\s+"
    r"(an?\s+|the\s+|some\s+|unit\s+|regression\s+|integration\s+)*(test|tests|testcase|spec|specs)\b"
    r"|\b(test\s+(suite|case|coverage|fixture|helper)s?|coverage|unit\s+tests?|pytest|junit|jest|mocha)\b",
    re.IGNORECASE)


def is_test(path: str) -> bool:
    p = PurePosixPath(path)
    if any(part.lower() in _TEST_DIRS for part in p.parts[:-1]):
        return True
    language = language_for(path)
    return language is not None and language.tests.tested_stem(path) is not None


def about_tests(text: str) -> bool:
    """Whether a request is about tests themselves (then tests are not pushed below their subjects)."""
    return _ABOUT_TESTS.search(text) is not None


class TestMap:
    """test file -> the files it tests, over one set of indexed paths."""

    __test__ = False  # not a pytest class

    def __init__(self, paths: Iterable[str], imports: Callable[[str], list[str]] | None = None) -> None:
        self._by_stem: dict[str, list[str]] = {}
        self.tests: set[str] = set()
        self._imports = imports
        self._subjects: dict[str, tuple[str, ...]] = {}
        for path in paths:
            if is_test(path):
                self.tests.add(path)
            else:
                self._by_stem.setdefault(PurePosixPath(path).stem.lower(), []).append(path)

    def subjects(self, test: str) -> tuple[str, ...]:
        """The files ``test`` tests: same-stem files of the naming layout (nearest folder first), else the
        non-test files it imports."""
        if test in self._subjects:
            return self._subjects[test]
        found: list[str] = []
        language = language_for(test)
        stem = language.tests.tested_stem(test) if language is not None else None
        if stem is not None:
            same = [p for p in self._by_stem.get(stem.lower(), [])
                    if (lang := language_for(p)) is not None and language is not None and lang.family == language.family]
            found = sorted(same, key=lambda p: (-_shared(p, test), p))[:2]
        if not found and self._imports is not None:
            found = [p for p in self._imports(test) if p not in self.tests][:2]
        self._subjects[test] = tuple(found)
        return self._subjects[test]


def _shared(a: str, b: str) -> int:
    """Path parts two paths share, ignoring test folders (``src/a/x.py`` ~ ``tests/a/test_x.py``)."""
    pa = [p for p in PurePosixPath(a).parts[:-1] if p not in _TEST_DIRS]
    pb = [p for p in PurePosixPath(b).parts[:-1] if p not in _TEST_DIRS]
    return len(set(pa) & set(pb))
