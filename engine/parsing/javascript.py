"""JavaScript, TypeScript and TSX: one spec family; TypeScript adds interfaces, type aliases, enums,
namespaces and signatures to the JavaScript query."""

from __future__ import annotations

import tree_sitter as ts

from ..model import Import
from .spec import LanguageSpec
from .text import leading_comment, node_text

_TOP = "[(program) (export_statement) (statement_block)]"

JS_QUERY = """
(function_declaration) @definition.function
(generator_function_declaration) @definition.function
(class_declaration) @definition.class
(method_definition) @definition.method
(field_definition) @definition.field
(program (lexical_declaration (variable_declarator) @definition.variable))
(program (variable_declaration (variable_declarator) @definition.variable))
(export_statement (lexical_declaration (variable_declarator) @definition.variable))
(export_statement (variable_declaration (variable_declarator) @definition.variable))
(import_statement) @import
(export_statement source: (string)) @import
(call_expression function: (identifier) @_req arguments: (arguments (string)) (#eq? @_req "require")) @import
(call_expression function: [(identifier) @call (member_expression property: (property_identifier) @call)])
(new_expression constructor: (identifier) @call)
[(identifier) (property_identifier) (shorthand_property_identifier) (private_property_identifier)] @reference
"""

TS_QUERY = JS_QUERY.replace("(field_definition) @definition.field", "(public_field_definition) @definition.field") + """
(abstract_class_declaration) @definition.class
(interface_declaration) @definition.interface
(type_alias_declaration) @definition.type
(enum_declaration) @definition.enum
(enum_body name: (property_identifier) @definition.enum_member)
(enum_body (enum_assignment) @definition.enum_member)
(internal_module) @definition.namespace
(ambient_declaration (module) @definition.module)
(method_signature) @definition.method
(abstract_method_signature) @definition.method
(function_signature) @definition.function
(property_signature) @definition.property
(type_identifier) @reference
"""


def _name(node: ts.Node) -> tuple[ts.Node | None, str]:
    if node.type in ("property_identifier",):  # a bare enum member
        return node, ""
    if node.type == "field_definition":
        return node.child_by_field_name("property"), ""
    return node.child_by_field_name("name"), ""


def _refine(kind: str, node: ts.Node, container_kind: str, source: bytes) -> str:
    if kind == "variable":
        value = node.child_by_field_name("value")
        if value is not None and value.type in ("arrow_function", "function_expression", "function"):
            return "function"
        if value is not None and value.type == "class":
            return "class"
        parent = node.parent
        if parent is not None and parent.type == "lexical_declaration" and source[parent.start_byte:parent.start_byte + 5] == b"const":
            return "constant"
    if kind == "method":
        name = node.child_by_field_name("name")
        if name is not None and source[name.start_byte:name.end_byte] == b"constructor":
            return "constructor"
        if node.children and node.children[0].type in ("get", "set"):
            return "property"
    return kind


def _string_value(node: ts.Node | None, source: bytes) -> str:
    if node is None:
        return ""
    return node_text(node, source).strip("'\"`")


def _imports(node: ts.Node, source: bytes) -> list[Import]:
    line = node.start_point[0]
    if node.type == "call_expression":  # require("x")
        args = node.child_by_field_name("arguments")
        string = args.named_children[0] if args is not None and args.named_child_count else None
        alias = ""
        parent = node.parent
        if parent is not None and parent.type == "variable_declarator":
            name = parent.child_by_field_name("name")
            alias = node_text(name, source) if name is not None and name.type == "identifier" else ""
        return [Import(_string_value(string, source), (), alias, line)]
    module = _string_value(node.child_by_field_name("source"), source)
    names: list[str] = []
    alias = ""
    for clause in node.named_children:
        if clause.type in ("import_clause", "export_clause"):
            for part in _walk_named(clause):
                if part.type in ("import_specifier", "export_specifier"):
                    name = part.child_by_field_name("name")
                    if name is not None:
                        names.append(node_text(name, source))
                elif part.type == "namespace_import":
                    alias = node_text(part.named_children[0], source) if part.named_child_count else ""
                    names.append("*")
                elif part.type == "identifier" and part.parent is not None and part.parent.type == "import_clause":
                    names.append("default")
                    alias = alias or node_text(part, source)
        elif clause.type == "*":
            names.append("*")
    if node.type == "export_statement" and not names:
        names.append("*")
    return [Import(module, tuple(names), alias, line)]


def _walk_named(node: ts.Node) -> list[ts.Node]:
    out: list[ts.Node] = []
    stack = list(reversed(node.named_children))
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(reversed(current.named_children))
    return out


def _spec(grammar: str, query: str) -> LanguageSpec:
    return LanguageSpec(
        grammar=grammar,
        query=query,
        separator=".",
        name=_name,
        imports=_imports,
        docstring=leading_comment,
        refine_kind=_refine,
    )


JAVASCRIPT = _spec("javascript", JS_QUERY)
TYPESCRIPT = _spec("typescript", TS_QUERY)
TSX = _spec("tsx", TS_QUERY)
