"""Java: types, methods, constructors, fields, enum constants, imports."""

from __future__ import annotations

import tree_sitter as ts

from ..model import Import
from .spec import LanguageSpec, field_name
from .text import leading_comment, node_text

QUERY = """
(class_declaration) @definition.class
(record_declaration) @definition.class
(interface_declaration) @definition.interface
(annotation_type_declaration) @definition.interface
(enum_declaration) @definition.enum
(enum_constant) @definition.enum_member
(method_declaration) @definition.method
(constructor_declaration) @definition.constructor
(compact_constructor_declaration) @definition.constructor
(field_declaration declarator: (variable_declarator) @definition.field)
(constant_declaration declarator: (variable_declarator) @definition.constant)
(import_declaration) @import
(method_invocation name: (identifier) @call)
(object_creation_expression type: (type_identifier) @call)
[(identifier) (type_identifier)] @reference
"""


def _refine(kind: str, node: ts.Node, container_kind: str, source: bytes) -> str:
    if kind == "field":
        parent = node.parent
        modifiers = parent.child(0) if parent is not None else None
        if modifiers is not None and modifiers.type == "modifiers":
            words = node_text(modifiers, source).split()
            if "static" in words and "final" in words:
                return "constant"
    return kind


def _imports(node: ts.Node, source: bytes) -> list[Import]:
    path = ""
    wildcard = False
    for child in node.named_children:
        if child.type in ("scoped_identifier", "identifier"):
            path = node_text(child, source)
        elif child.type == "asterisk":
            wildcard = True
    if wildcard:
        return [Import(path, ("*",), "", node.start_point[0])]
    module, _, name = path.rpartition(".")
    return [Import(module, (name,), "", node.start_point[0])]


def _docstring(node: ts.Node, source: bytes) -> str:
    # A field's comment sits above its field_declaration, not above the declarator.
    target = node.parent if node.type == "variable_declarator" and node.parent is not None else node
    return leading_comment(target, source)


SPEC = LanguageSpec(
    grammar="java",
    query=QUERY,
    separator=".",
    name=field_name,
    imports=_imports,
    docstring=_docstring,
    refine_kind=_refine,
)
