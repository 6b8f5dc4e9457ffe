"""Which declaration a name refers to inside one file, from the syntax tree alone.

A *binding* is an identifier that introduces a name (a parameter, an assignment target, a declarator,
an import, a function or class name); a *scope* is a node whose bindings are invisible outside it (a
function, a block in the brace languages, a comprehension). Resolving a use walks the scopes that
enclose it, innermost first, and takes the binding of that name in the first scope that has one.
This is what "go to definition" can do for the five languages without a type checker: exact for
locals and parameters, and the starting point for the cross-file search in ``navigation``.
"""

from __future__ import annotations

from dataclasses import dataclass

import tree_sitter as ts

from .source import SourceFile

ANY = ""  # any child position, not a named field

# (parent type, field) pairs where an identifier child introduces a name, per grammar family.
_PY = {
    ("parameters", ANY), ("lambda_parameters", ANY), ("default_parameter", "name"), ("typed_parameter", ANY),
    ("typed_default_parameter", "name"), ("assignment", "left"), ("for_statement", "left"),
    ("for_in_clause", "left"), ("as_pattern_target", ANY), ("named_expression", "name"),
    ("function_definition", "name"), ("class_definition", "name"), ("aliased_import", "alias"),
    ("global_statement", ANY), ("nonlocal_statement", ANY),
}
_JS = {
    ("variable_declarator", "name"), ("formal_parameters", ANY), ("required_parameter", "pattern"),
    ("optional_parameter", "pattern"), ("catch_clause", "parameter"), ("for_in_statement", "left"),
    ("arrow_function", "parameter"), ("function_declaration", "name"), ("function_expression", "name"),
    ("generator_function_declaration", "name"), ("class_declaration", "name"), ("class", "name"),
    ("abstract_class_declaration", "name"), ("import_clause", ANY), ("namespace_import", ANY),
    ("method_definition", "name"), ("field_definition", "property"), ("public_field_definition", "name"),
    ("interface_declaration", "name"), ("type_alias_declaration", "name"), ("enum_declaration", "name"),
    ("type_parameter", "name"), ("internal_module", "name"), ("function_signature", "name"),
}
_JAVA = {
    ("variable_declarator", "name"), ("formal_parameter", "name"), ("catch_formal_parameter", "name"),
    ("enhanced_for_statement", "name"), ("lambda_expression", "parameters"), ("inferred_parameters", ANY),
    ("class_declaration", "name"), ("interface_declaration", "name"), ("enum_declaration", "name"),
    ("record_declaration", "name"), ("annotation_type_declaration", "name"), ("method_declaration", "name"),
    ("constructor_declaration", "name"), ("enum_constant", "name"), ("type_parameter", ANY),
    ("resource", "name"),
}
_C = {
    ("parameter_declaration", "declarator"), ("optional_parameter_declaration", "declarator"),
    ("declaration", "declarator"), ("field_declaration", "declarator"), ("function_definition", "declarator"),
    ("type_definition", "declarator"), ("for_range_loop", "declarator"), ("struct_specifier", "name"),
    ("class_specifier", "name"), ("union_specifier", "name"), ("enum_specifier", "name"),
    ("enumerator", "name"), ("preproc_def", "name"), ("preproc_function_def", "name"),
    ("namespace_definition", "name"), ("alias_declaration", "name"),
}
# Nodes a binding can hide in: `a, b = ...`, `{x, y} = o`, `int *p`, `(a, b)` as a with-target.
_CONTAINERS = {
    "python": {"pattern_list", "tuple_pattern", "list_pattern", "tuple", "list", "parenthesized_expression",
               "list_splat_pattern", "dictionary_splat_pattern"},
    "js": {"object_pattern", "array_pattern", "rest_pattern", "assignment_pattern", "pair_pattern"},
    "java": set(),
    "c": {"pointer_declarator", "reference_declarator", "array_declarator", "init_declarator",
          "function_declarator", "parenthesized_declarator"},
}
_SCOPES = {
    "python": {"module", "function_definition", "lambda", "class_definition", "list_comprehension",
               "dictionary_comprehension", "set_comprehension", "generator_expression"},
    "js": {"program", "function_declaration", "function_expression", "arrow_function", "method_definition",
           "generator_function_declaration", "statement_block", "for_statement", "for_in_statement",
           "catch_clause", "class_body"},
    "java": {"program", "class_body", "interface_body", "enum_body", "method_declaration",
             "constructor_declaration", "lambda_expression", "block", "for_statement", "enhanced_for_statement",
             "catch_clause", "try_with_resources_statement"},
    "c": {"translation_unit", "function_definition", "compound_statement", "for_statement", "for_range_loop",
          "lambda_expression", "field_declaration_list", "declaration_list"},
}
_TABLES = {"python": _PY, "js": _JS, "java": _JAVA, "c": _C}
_NAME_TYPES = frozenset({
    "identifier", "type_identifier", "property_identifier", "field_identifier", "namespace_identifier",
    "shorthand_property_identifier_pattern", "shorthand_property_identifier", "private_property_identifier",
})
_FUNCTIONS = frozenset({"function_definition", "lambda"})


def family(language: str | None) -> str:
    if language == "python":
        return "python"
    if language in ("javascript", "typescript", "tsx"):
        return "js"
    if language == "java":
        return "java"
    return "c"


@dataclass(frozen=True, slots=True)
class Binding:
    node: ts.Node  # the identifier that introduces the name
    scope: ts.Node  # the scope it belongs to
    kind: str  # "import", "parameter", "definition" (everything else)

    @property
    def is_file_level(self) -> bool:
        return self.scope.parent is None


class FileScopes:
    """Name resolution over one parsed file."""

    def __init__(self, src: SourceFile) -> None:
        self.src = src
        self.family = family(src.language)
        self.table = _TABLES[self.family]
        self.containers = _CONTAINERS[self.family]
        self.scope_types = _SCOPES[self.family]

    def identifier_at(self, line: int, col: int) -> ts.Node | None:
        word = self.src.word_at(line, col)
        tree = self.src.tree
        if word is None or tree is None:
            return None
        node = tree.root_node.named_descendant_for_byte_range(word[0], word[1])
        if node is None or node.type not in _NAME_TYPES or (node.start_byte, node.end_byte) != word:
            return None
        return node

    def occurrences(self, name: str) -> list[ts.Node]:
        """Every identifier spelled ``name`` in the file, in file order."""
        extraction = self.src.extraction
        tree = self.src.tree
        if extraction is None or tree is None:
            return []
        try:
            wanted = extraction.ref_names.index(name)
        except ValueError:
            return []
        refs = extraction.refs
        mask = (1 << 31) - 1
        root = tree.root_node
        out = []
        for i in range(0, len(refs), 3):
            if refs[i] & mask == wanted:
                node = root.named_descendant_for_byte_range(refs[i + 1], refs[i + 2])
                if node is not None:
                    out.append(node)
        return out

    def binding(self, node: ts.Node) -> Binding | None:
        """The Binding if ``node`` introduces its name here, else None."""
        if node.type == "shorthand_property_identifier_pattern":
            return Binding(node, self._scope_of(node), "definition")
        child, parent = node, node.parent
        while parent is not None and parent.type in self.containers:
            child, parent = parent, parent.parent
        if parent is None:
            return None
        if self.family == "python" and parent.type == "dotted_name":
            return self._python_import(node, parent)
        if self.family == "js" and parent.type == "import_specifier":
            alias = parent.child_by_field_name("alias")
            if (alias is None and parent.child_by_field_name("name") == node) or alias == node:
                return Binding(node, self._scope_of(node), "import")
            return None
        if (parent.type, _field_of(parent, child)) not in self.table:
            return None
        kind = "import" if parent.type in ("aliased_import", "import_clause", "namespace_import") else \
            "parameter" if "param" in parent.type else "definition"
        scope = self._scope_of(node)
        if scope.child_by_field_name("name") == node or _declares(scope, node):
            scope = self._scope_of(scope)  # `def f`: f belongs to the enclosing scope
        return Binding(node, scope, kind)

    def _python_import(self, node: ts.Node, dotted: ts.Node) -> Binding | None:
        statement = dotted.parent
        if statement is None:
            return None
        names = statement.children_by_field_name("name")
        if statement.type == "import_statement" and dotted in names and dotted.named_children[0] == node:
            return Binding(node, self._scope_of(node), "import")
        if statement.type == "import_from_statement" and dotted in names:
            return Binding(node, self._scope_of(node), "import")
        return None

    def _scope_of(self, node: ts.Node) -> ts.Node:
        current = node.parent
        while current is not None:
            if current.type in self.scope_types:
                return current
            if current.parent is None:
                return current
            current = current.parent
        return node

    def scopes_around(self, node: ts.Node) -> list[ts.Node]:
        """Enclosing scopes, innermost first; Python class bodies are skipped from inside a method."""
        out: list[ts.Node] = []
        crossed_function = False
        current = node.parent
        while current is not None:
            if current.type in self.scope_types or current.parent is None:
                if not (self.family == "python" and current.type == "class_definition" and crossed_function):
                    out.append(current)
                if current.type in _FUNCTIONS:
                    crossed_function = True
            current = current.parent
        return out

    def resolve(self, node: ts.Node) -> Binding | None:
        """The binding ``node`` refers to in this file (itself if it is one), or None."""
        own = self.binding(node)
        if own is not None:
            return own
        if member_object(node) is not False:
            return None  # `obj.name` is an attribute, never the variable `name`
        name = self.src.node_text(node)
        candidates = [b for b in (self.binding(n) for n in self.occurrences(name)) if b is not None]
        if not candidates:
            return None
        for scope in self.scopes_around(node):
            here = [b for b in candidates if b.scope == scope]
            if here:
                before = [b for b in here if b.node.start_byte <= node.start_byte]
                return before[-1] if before else here[0]
        return None

    def uses_of(self, binding: Binding) -> list[ts.Node]:
        """Every occurrence in this file that resolves to ``binding`` (the binding itself included)."""
        name = self.src.node_text(binding.node)
        out = []
        for node in self.occurrences(name):
            found = self.resolve(node)
            if found is None:
                continue
            if found.node == binding.node:
                out.append(node)
            elif found.scope == binding.scope and found.kind != "parameter" \
                    and binding.kind != "parameter":
                out.append(node)  # `x = 1` then `x = 2` in one scope: both bind the same variable
        return out

    def unbound_uses(self, name: str) -> list[ts.Node]:
        """Occurrences of ``name`` bound nowhere in this file, or bound at file level."""
        out = []
        for node in self.occurrences(name):
            if member_object(node) is not False:
                continue
            found = self.resolve(node)
            if found is None or found.is_file_level:
                out.append(node)
        return out


def member_object(node: ts.Node) -> ts.Node | None | bool:
    """For ``obj.name``: the ``obj`` node; False when ``node`` is not accessed as a member."""
    parent = node.parent
    if parent is None:
        return False
    kind = parent.type
    if kind == "attribute" and parent.child_by_field_name("attribute") == node:
        return parent.child_by_field_name("object")
    if kind == "member_expression" and parent.child_by_field_name("property") == node:
        return parent.child_by_field_name("object")
    if kind in ("field_access", "method_invocation") and parent.child_by_field_name(
            "field" if kind == "field_access" else "name") == node:
        return parent.child_by_field_name("object")
    if kind == "field_expression" and parent.child_by_field_name("field") == node:
        return parent.child_by_field_name("argument")
    if kind == "qualified_identifier" and parent.child_by_field_name("name") == node:
        return parent.child_by_field_name("scope")
    return False


def _field_of(parent: ts.Node, child: ts.Node) -> str:
    for index, candidate in enumerate(parent.children):
        if candidate == child:
            return parent.field_name_for_child(index) or ""
    return ""


def _declares(scope: ts.Node, node: ts.Node) -> bool:
    # C: `int f() {...}` names f through function_definition > function_declarator > identifier.
    if scope.type != "function_definition":
        return False
    declarator = scope.child_by_field_name("declarator")
    while declarator is not None and declarator.type != "function_declarator":
        declarator = declarator.child_by_field_name("declarator")
    return declarator is not None and declarator.child_by_field_name("declarator") == node
