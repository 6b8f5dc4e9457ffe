"""What a language is to Nexus: one frozen record per language, written in that language's module.

Everything the engine, the faces and the editors know about a language hangs off its :class:`Language`:
how files and editors name it, its grammar and extraction spec, its scope rules, keywords, comments,
how its tests are laid out, how its imports name files, and the kernel that runs it. Code that needs to
know something about a language asks the registry for the record instead of keeping its own table, so a
new language is one new module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from ..errors import NotFoundError

if TYPE_CHECKING:
    from ..parsing.spec import LanguageSpec

ANY = ""  # a binding rule's "any child position", not a named field


class UnknownLanguageError(NotFoundError, ValueError):
    """A language name, alias, suffix or LSP id that no registered language claims.

    Also a ValueError: callers that validated ``--lang`` values with ``except ValueError`` keep working.
    """

    def __init__(self, what: str, value: str, known: list[str]) -> None:
        super().__init__(f"unknown {what} {value!r}; known: {', '.join(sorted(known))}")
        self.value = value


@dataclass(frozen=True, slots=True)
class Grammar:
    """Where the tree-sitter grammar comes from: ``module.function()`` returns the language pointer.

    Grammars are the individual ``tree-sitter-<lang>`` packages (the language pack downloads grammars
    at run time and fails offline); ``package`` is the distribution to depend on.
    """

    module: str
    function: str = "language"
    package: str = ""


@dataclass(frozen=True, slots=True)
class ScopeRules:
    """How names bind in the syntax tree (see ``nexus.engine.scopes``).

    ``bindings``: (parent node type, field) pairs where an identifier child introduces a name (ANY: any
    child position); ``containers``: nodes a binding can hide in (``a, b = ...``, ``{x, y} = o``,
    ``int *p``); ``scopes``: nodes whose bindings are invisible outside them.
    """

    bindings: frozenset[tuple[str, str]] = frozenset()
    containers: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class TestLayout:
    """How a test file names the file it tests, as ``{stem}`` patterns over file names without suffix.

    ``patterns`` are every naming a test of ``foo`` may use (``test_{stem}``, ``{stem}_test``,
    ``{stem}.test``, ``{stem}Test``); the first is what a new test file is called. ``folder``: where new
    tests go when the project has that folder at its root (Python's ``tests/``), else next to the file.
    ``suffix``: the new test file's suffix when it differs from the tested file's (C headers get a
    ``.cpp`` test); empty keeps the tested file's suffix.
    """

    patterns: tuple[str, ...]
    folder: str = ""
    suffix: str = ""

    def test_path(self, path: str, has_tests_folder: bool = False) -> str:
        """Where a new test file for ``path`` goes."""
        p = PurePosixPath(path)
        suffix = self.suffix or p.suffix
        name = self.patterns[0].format(stem=p.stem) + suffix
        if self.folder and has_tests_folder and not p.is_absolute():
            return f"{self.folder}/{name}"
        return str(p.with_name(name))

    def tested_stem(self, path: str) -> str | None:
        """The stem of the file a test file tests (``test_foo.py`` -> ``foo``), or None when ``path`` is
        not named as a test."""
        name = PurePosixPath(path).stem  # `foo.test.ts` -> `foo.test`
        for pattern in self.patterns:
            before, _, after = pattern.partition("{stem}")
            if name.startswith(before) and name.endswith(after) and len(name) > len(before) + len(after):
                return name[len(before):len(name) - len(after)]
        return None


@dataclass(frozen=True, slots=True)
class ImportTargets:
    """The files an import may refer to, as candidate keys (see ``nexus.engine.languages.modules``).

    ``module``: the module itself (``pkg/__init__.py`` for ``from pkg import x``, ``C.java`` for
    ``import a.b.C``); ``members``: files named by the imported names (``pkg/x.py`` when ``x`` is a
    submodule). The graph records both, best first (the first that resolves is the import's target);
    navigation looks for the name in ``module`` first. ``members_first``: the names are the better
    target (``from . import util`` imports ``util.py`` more than the package's ``__init__.py``).
    """

    module: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    members_first: bool = False

    @property
    def keys(self) -> tuple[str, ...]:
        return self.members + self.module if self.members_first else self.module + self.members


ImportResolver = Callable[[str, str, tuple[str, ...]], ImportTargets]
"""(importing file's workspace path, module as written, imported names) -> ImportTargets."""


@dataclass(frozen=True, slots=True)
class Language:
    """One language. ``name`` is what the index stores for a file (the grammar's name)."""

    name: str
    display_name: str
    # Languages in one family see each other's names (TypeScript imports JavaScript; C++ includes C).
    family: str
    suffixes: tuple[str, ...]
    grammar: Grammar
    spec: Callable[[], LanguageSpec]  # the extraction spec (query and hooks), imported on first use
    resolve_import: ImportResolver
    scopes: ScopeRules
    tests: TestLayout
    # What users, notebooks and kernelspecs call it (``--lang ts``, ``"language": "python3"``).
    aliases: tuple[str, ...] = ()
    # Other languages a ``--lang`` of this one covers too (TypeScript covers TSX; C++ covers C).
    includes: tuple[str, ...] = ()
    # LSP languageIds (also VS Code's and Neovim's names) the editors attach to, then others accepted.
    lsp_ids: tuple[str, ...] = ()
    other_lsp_ids: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    builtins: tuple[str, ...] = ()
    line_comment: str = "//"
    block_comment: tuple[str, str] | None = ("/*", "*/")
    test_framework: str = ""
    kernel: str | None = None  # the nexus.kernels language that runs it (C runs in the C++ kernel)

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the registry finds this language by."""
        return (self.name, *self.aliases)

    @property
    def search_languages(self) -> tuple[str, ...]:
        """The index languages a ``--lang`` of this language selects."""
        return (self.name, *self.includes)
