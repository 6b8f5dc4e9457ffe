"""TypeScript and TSX (two grammars of one package), run on Node.js after compilation. They share the
JavaScript family's imports and scope rules: either imports the other."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from . import javascript
from .base import Grammar, Language

if TYPE_CHECKING:
    from ..parsing.spec import LanguageSpec


def _typescript_spec() -> LanguageSpec:
    from ..parsing import javascript as parsing

    return parsing.TYPESCRIPT


def _tsx_spec() -> LanguageSpec:
    from ..parsing import javascript as parsing

    return parsing.TSX


LANGUAGE = Language(
    name="typescript",
    display_name="TypeScript",
    family="js",
    suffixes=(".ts", ".mts", ".cts"),
    aliases=("ts",),
    includes=("tsx",),
    lsp_ids=("typescript",),
    grammar=Grammar("tree_sitter_typescript", "language_typescript", package="tree-sitter-typescript"),
    spec=_typescript_spec,
    resolve_import=javascript.resolve_import,
    scopes=javascript.SCOPES,
    keywords=javascript.KEYWORDS,
    tests=javascript.TESTS,
    test_framework=javascript.TEST_FRAMEWORK,
    kernel="typescript",
)

TSX = replace(
    LANGUAGE,
    name="tsx",
    display_name="TypeScript JSX",
    suffixes=(".tsx",),
    aliases=(),
    includes=(),
    lsp_ids=("typescriptreact",),
    grammar=Grammar("tree_sitter_typescript", "language_tsx", package="tree-sitter-typescript"),
    spec=_tsx_spec,
)
