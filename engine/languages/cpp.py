"""C++, compiled by g++ in the C++ kernel. Headers (``.h`` too) are parsed as C++: the C++ grammar
accepts C headers, while the C grammar rejects the C++ found in many ``.h`` files."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import c
from .base import Grammar, Language, TestLayout

if TYPE_CHECKING:
    from ..parsing.spec import LanguageSpec


def _spec() -> LanguageSpec:
    from ..parsing import cpp

    return cpp.CPP


LANGUAGE = Language(
    name="cpp",
    display_name="C++",
    family="c",
    suffixes=(".cc", ".cpp", ".cxx", ".c++", ".h", ".hpp", ".hh", ".hxx"),
    aliases=("c++", "cxx", "c++17", "c++20"),
    includes=("c",),
    lsp_ids=("cpp",),
    other_lsp_ids=("cuda-cpp", "objective-cpp"),
    grammar=Grammar("tree_sitter_cpp", package="tree-sitter-cpp"),
    spec=_spec,
    resolve_import=c.resolve_import,
    scopes=c.SCOPES,
    keywords=(*c.KEYWORDS, "class", "constexpr", "delete", "namespace", "new", "nullptr", "private",
              "protected", "public", "template", "this", "typename", "using", "virtual"),
    tests=TestLayout(("{stem}_test", "test_{stem}"), suffix=".cpp"),
    test_framework=c.TEST_FRAMEWORK,
    kernel="cpp",
)
