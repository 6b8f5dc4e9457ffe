"""Java, run in jshell."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import ANY, Grammar, ImportTargets, Language, ScopeRules, TestLayout

if TYPE_CHECKING:
    from ..parsing.spec import LanguageSpec


def _spec() -> LanguageSpec:
    from ..parsing import java

    return java.SPEC


def resolve_import(from_path: str, module: str, names: tuple[str, ...]) -> ImportTargets:
    """``import com.acme.Widget`` is ``com/acme/Widget.java`` under some source root; ``import
    com.acme.*`` every file of that package folder. The extractor splits the class off the package:
    ``module`` is the package, ``names`` the class (or ``*``)."""
    if not module:
        return ImportTargets()
    base = module.replace(".", "/")
    if names == ("*",) or not names:
        return ImportTargets((f"~{base}/*",) if names else (f"~{base}.java",))
    return ImportTargets(tuple(f"~{base}/{name}.java" for name in names))


LANGUAGE = Language(
    name="java",
    display_name="Java",
    family="java",
    suffixes=(".java",),
    lsp_ids=("java",),
    grammar=Grammar("tree_sitter_java", package="tree-sitter-java"),
    spec=_spec,
    resolve_import=resolve_import,
    scopes=ScopeRules(
        bindings=frozenset({
            ("variable_declarator", "name"), ("formal_parameter", "name"), ("catch_formal_parameter", "name"),
            ("enhanced_for_statement", "name"), ("lambda_expression", "parameters"),
            ("inferred_parameters", ANY), ("class_declaration", "name"), ("interface_declaration", "name"),
            ("enum_declaration", "name"), ("record_declaration", "name"),
            ("annotation_type_declaration", "name"), ("method_declaration", "name"),
            ("constructor_declaration", "name"), ("enum_constant", "name"), ("type_parameter", ANY),
            ("resource", "name"),
        }),
        scopes=frozenset({"program", "class_body", "interface_body", "enum_body", "method_declaration",
                          "constructor_declaration", "lambda_expression", "block", "for_statement",
                          "enhanced_for_statement", "catch_clause", "try_with_resources_statement"}),
    ),
    keywords=("abstract", "boolean", "break", "byte", "case", "catch", "char", "class", "continue", "default",
              "do", "double", "else", "enum", "extends", "final", "finally", "float", "for", "if", "implements",
              "import", "instanceof", "int", "interface", "long", "new", "null", "package", "private",
              "protected", "public", "return", "short", "static", "super", "switch", "this", "throw", "throws",
              "try", "void", "while", "var", "record", "true", "false"),
    tests=TestLayout(("{stem}Test", "{stem}Tests", "Test{stem}"), suffix=".java"),
    test_framework="JUnit 5",
    kernel="java",
)
