"""C and C++: functions (definitions and prototypes), classes/structs/unions/enums, namespaces,
typedefs and aliases, fields, macros, includes. Names hide in declarator chains
(`static int *f(void)`, `int Foo::bar() const`); ``_name`` walks them."""

from __future__ import annotations

import tree_sitter as ts

from ..model import Import
from .spec import LanguageSpec
from .text import leading_comment, node_text

_COMMON = """
(function_definition) @definition.function
(declaration declarator: (function_declarator)) @definition.function
(field_declaration declarator: (function_declarator)) @definition.method
(field_declaration declarator: (field_identifier)) @definition.field
(struct_specifier body: (_)) @definition.struct
(union_specifier body: (_)) @definition.struct
(enum_specifier body: (_)) @definition.enum
(enumerator) @definition.enum_member
(type_definition) @definition.type
(preproc_def) @definition.macro
(preproc_function_def) @definition.macro
(translation_unit (declaration declarator: (init_declarator)) @definition.variable)
(preproc_include) @import
"""

C_QUERY = _COMMON + """
(call_expression function: [(identifier) @call (field_expression field: (field_identifier) @call)])
[(identifier) (field_identifier) (type_identifier)] @reference
"""

CPP_QUERY = _COMMON + """
(class_specifier body: (_)) @definition.class
(namespace_definition body: (_)) @definition.namespace
(alias_declaration) @definition.type
(declaration_list (declaration declarator: (init_declarator)) @definition.variable)
(call_expression function: [(identifier) @call (field_expression field: (field_identifier) @call)
                            (qualified_identifier name: (identifier) @call)])
[(identifier) (field_identifier) (type_identifier) (namespace_identifier)] @reference
"""

_DESCEND = frozenset({
    "function_declarator", "pointer_declarator", "reference_declarator", "parenthesized_declarator",
    "attributed_declarator", "array_declarator", "init_declarator",
})
_NAMES = frozenset({
    "identifier", "field_identifier", "type_identifier", "destructor_name", "operator_name",
    "namespace_identifier", "primitive_type",
})


def _name(node: ts.Node) -> tuple[ts.Node | None, str]:
    direct = node.child_by_field_name("name")
    if direct is not None and node.type != "function_definition":
        return direct, ""
    current = node.child_by_field_name("declarator")
    while current is not None:
        if current.type in _NAMES:
            return current, ""
        if current.type == "qualified_identifier":
            scope_parts = []
            while current is not None and current.type == "qualified_identifier":
                scope = current.child_by_field_name("scope")
                if scope is not None:
                    scope_parts.append(scope)
                current = current.child_by_field_name("name")
            if current is not None and current.type == "template_function":
                current = current.child_by_field_name("name")
            scope_text = "::".join(_text(s) for s in scope_parts)
            return current, scope_text
        if current.type == "template_function":
            return current.child_by_field_name("name"), ""
        if current.type in _DESCEND:
            current = current.child_by_field_name("declarator")
            continue
        return None, ""
    return None, ""


def _text(node: ts.Node) -> str:
    text = node.text
    return text.decode("utf-8", "replace") if text is not None else ""


def _refine(kind: str, node: ts.Node, container_kind: str, source: bytes) -> str:
    in_type = container_kind in ("class", "struct")
    if kind == "function" and in_type:
        kind = "method"
    if kind in ("function", "method"):
        name, scope = _name(node)
        if name is not None:
            text = source[name.start_byte:name.end_byte]
            if scope and scope.rsplit("::", 1)[-1].encode() == text:
                return "constructor"
            if scope and kind == "function":
                return "method"
            if name.type == "destructor_name":
                return "method"
            parent_class = node.parent.parent if node.parent is not None else None
            if in_type and parent_class is not None:
                class_name = parent_class.child_by_field_name("name")
                if class_name is not None and source[class_name.start_byte:class_name.end_byte] == text:
                    return "constructor"
    if kind == "variable" and b"const" in source[node.start_byte:node.start_byte + 40].split(b" ")[:3]:
        return "constant"
    return kind


def _imports(node: ts.Node, source: bytes) -> list[Import]:
    path = node.child_by_field_name("path")
    if path is None:
        return []
    return [Import(node_text(path, source).strip('<>"'), (), "", node.start_point[0])]


def _spec(grammar: str, query: str) -> LanguageSpec:
    return LanguageSpec(
        grammar=grammar,
        query=query,
        separator="::",
        name=_name,
        imports=_imports,
        docstring=leading_comment,
        refine_kind=_refine,
    )


C = _spec("c", C_QUERY)
CPP = _spec("cpp", CPP_QUERY)
