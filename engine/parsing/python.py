"""Python: functions, classes, methods, module and class attributes, imports."""

from __future__ import annotations

import tree_sitter as ts

from ..model import Import
from .spec import LanguageSpec
from .text import node_text, python_docstring

QUERY = """
(function_definition) @definition.function
(class_definition) @definition.class
(module (expression_statement (assignment left: (identifier)) @definition.variable))
(class_definition body: (block (expression_statement (assignment left: (identifier)) @definition.field)))
(import_statement) @import
(import_from_statement) @import
(future_import_statement) @import
(call function: [(identifier) @call (attribute attribute: (identifier) @call)])
(identifier) @reference
"""


def _name(node: ts.Node) -> tuple[ts.Node | None, str]:
    if node.type == "assignment":
        return node.child_by_field_name("left"), ""
    return node.child_by_field_name("name"), ""


def _refine(kind: str, node: ts.Node, container_kind: str, source: bytes) -> str:
    if kind == "function" and container_kind == "class":
        return "method"
    if kind == "variable":
        left = node.child_by_field_name("left")
        if left is not None:
            name = source[left.start_byte:left.end_byte]
            if name.isupper() and len(name) > 1:
                return "constant"
    return kind


def _imports(node: ts.Node, source: bytes) -> list[Import]:
    line = node.start_point[0]
    if node.type == "import_statement":
        found = []
        for child in node.children_by_field_name("name"):
            if child.type == "aliased_import":
                dotted = child.child_by_field_name("name")
                alias = child.child_by_field_name("alias")
                found.append(Import(node_text(dotted, source) if dotted else "", (),
                                    node_text(alias, source) if alias else "", line))
            else:
                found.append(Import(node_text(child, source), (), "", line))
        return found
    if node.type == "future_import_statement":
        features = tuple(node_text(n, source) for n in node.children_by_field_name("name"))
        return [Import("__future__", features, "", line)]
    module_node = node.child_by_field_name("module_name")
    module = node_text(module_node, source) if module_node else ""
    names: list[str] = []
    for child in node.named_children:
        if child is module_node:
            continue
        if child.type == "wildcard_import":
            names.append("*")
        elif child.type == "aliased_import":
            inner = child.child_by_field_name("name")
            if inner is not None:
                names.append(node_text(inner, source))
        elif child.type == "dotted_name":
            names.append(node_text(child, source))
    return [Import(module, tuple(names), "", line)]


def _docstring(node: ts.Node, source: bytes) -> str:
    if node.type in ("function_definition", "class_definition"):
        return python_docstring(node, source)
    return ""


SPEC = LanguageSpec(
    grammar="python",
    query=QUERY,
    separator=".",
    name=_name,
    imports=_imports,
    docstring=_docstring,
    refine_kind=_refine,
)
