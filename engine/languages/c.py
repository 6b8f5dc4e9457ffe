"""C (``.c``), compiled and run by the C++ kernel; also the include resolver and scope rules the C++
module shares (one family: C++ includes C headers)."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from .base import Grammar, ImportTargets, Language, ScopeRules, TestLayout
from .modules import relative_to

if TYPE_CHECKING:
    from ..parsing.spec import LanguageSpec


def resolve_import(from_path: str, module: str, names: tuple[str, ...]) -> ImportTargets:
    """``#include "x.h"`` is first ``x.h`` next to the including file, then any ``.../x.h`` (an include
    path the index does not know); ``<x.h>`` the same, where it is a workspace file at all."""
    if not module:
        return ImportTargets()
    keys = [f"~{posixpath.normpath(module)}"]
    local = relative_to(from_path, module)
    if local:
        keys.insert(0, f"={local}")
    return ImportTargets(tuple(keys))


SCOPES = ScopeRules(
    bindings=frozenset({
        ("parameter_declaration", "declarator"), ("optional_parameter_declaration", "declarator"),
        ("declaration", "declarator"), ("field_declaration", "declarator"),
        ("function_definition", "declarator"), ("type_definition", "declarator"),
        ("for_range_loop", "declarator"), ("struct_specifier", "name"), ("class_specifier", "name"),
        ("union_specifier", "name"), ("enum_specifier", "name"), ("enumerator", "name"), ("preproc_def", "name"),
        ("preproc_function_def", "name"), ("namespace_definition", "name"), ("alias_declaration", "name"),
    }),
    containers=frozenset({"pointer_declarator", "reference_declarator", "array_declarator", "init_declarator",
                          "function_declarator", "parenthesized_declarator"}),
    scopes=frozenset({"translation_unit", "function_definition", "compound_statement", "for_statement",
                      "for_range_loop", "lambda_expression", "field_declaration_list", "declaration_list"}),
)
KEYWORDS = ("auto", "bool", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
            "enum", "false", "float", "for", "if", "int", "long", "return", "short", "sizeof", "static",
            "struct", "switch", "true", "typedef", "unsigned", "void", "while")
TEST_FRAMEWORK = "a main() with assert() checks"


def _spec() -> LanguageSpec:
    from ..parsing import cpp

    return cpp.C


LANGUAGE = Language(
    name="c",
    display_name="C",
    family="c",
    suffixes=(".c",),
    lsp_ids=("c",),
    grammar=Grammar("tree_sitter_c", package="tree-sitter-c"),
    spec=_spec,
    resolve_import=resolve_import,
    scopes=SCOPES,
    keywords=KEYWORDS,
    tests=TestLayout(("{stem}_test", "test_{stem}")),
    test_framework=TEST_FRAMEWORK,
    kernel="cpp",
)
