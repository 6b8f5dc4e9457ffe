"""Which declaration a name refers to inside one file, from the syntax tree alone.

A *binding* is an identifier that introduces a name (a parameter, an assignment target, a declarator,
an import, a function or class name); a *scope* is a node whose bindings are invisible outside it (a
function, a block in the brace languages, a comprehension). Resolving a use walks the scopes that
enclose it, innermost first, and takes the binding of that name in the first scope that has one.
The binding, container and scope node types are each language's ``ScopeRules`` (nexus.engine.languages).
This is what "go to definition" can do for every language without a type checker: exact for
locals and parameters, and the starting point for the cross-file search in ``navigation``.
"""

from __future__ import annotations

from dataclasses import dataclass

import tree_sitter as ts

from .languages import ScopeRules, registry
from .source import SourceFile

_PLAIN = ScopeRules()  # a buffer in no language: no tree, so nothing binds
_NAME_TYPES = frozenset({
    "identifier", "type_identifier", "property_identifier", "field_identifier", "namespace_identifier",
    "shorthand_property_identifier_pattern", "shorthand_property_identifier", "private_property_identifier",
})
_FUNCTIONS = frozenset({"function_definition", "lambda"})


def family(language: str | None) -> str:
    """The language's family ("python", "js", "java", "c"), "" for no language; an unknown language
    raises UnknownLanguageError (it is not treated as C)."""
    return registry.family(language)


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
        rules = registry.get(src.language).scopes if src.language and self.family else _PLAIN
        self.table = rules.bindings
        self.containers = rules.containers
        self.scope_types = rules.scopes

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
        tree = self.src.tree
        if tree is None:
            return []
        root = tree.root_node
        out = []
        for start, end in self.src.refs_named(name):
            node = root.named_descendant_for_byte_range(start, end)
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

    def scopes_around(self, node: ts.Node, include_self: bool = False) -> list[ts.Node]:
        """Enclosing scopes, innermost first (``node`` itself too when ``include_self`` and it is one);
        Python class bodies are skipped from inside a method."""
        out: list[ts.Node] = []
        crossed_function = False
        current = node if include_self else node.parent
        while current is not None:
            if current.type in self.scope_types or current.parent is None:
                if not (self.family == "python" and current.type == "class_definition" and crossed_function):
                    out.append(current)
                if current.type in _FUNCTIONS:
                    crossed_function = True
            current = current.parent
        return out

    def resolve(self, node: ts.Node) -> Binding | None:
        """The binding ``node`` refers to in this file (itself if it is one), or None.

        Each enclosing scope is searched through its own statements only (a nested function or class
        contributes its name, not its body), innermost first: resolving a name costs the code around
        it, not every identifier of the file.
        """
        own = self.binding(node)
        if own is not None:
            return own
        if member_object(node) is not False:
            return None  # `obj.name` is an attribute, never the variable `name`
        name = self.src.node_text(node)
        for scope in self.scopes_around(node):
            here = [b for b in (self.binding(n) for n in self.own_identifiers(scope, name)) if b is not None
                    and b.scope == scope]
            if here:
                before = [b for b in here if b.node.start_byte <= node.start_byte]
                return before[-1] if before else here[0]
        return None

    def own_identifiers(self, scope: ts.Node, name: str | None = None) -> list[ts.Node]:
        """Identifiers in ``scope``'s own code (spelled ``name`` when given), in file order: nested scopes
        are entered for their header (name, parameters, a C declarator) but not their body; a nested
        block (no header) not at all."""
        data = self.src.data
        wanted = name.encode("utf-8", "surrogatepass") if name is not None else None
        out = []
        stack = list(reversed(scope.children))
        while stack:
            current = stack.pop()
            kind = current.type
            if kind in _NAME_TYPES:
                if wanted is None or data[current.start_byte:current.end_byte] == wanted:
                    out.append(current)
                continue
            if not current.child_count:
                continue
            if kind in self.scope_types:
                body = current.child_by_field_name("body")
                if body is not None:
                    stack.extend(c for c in reversed(current.children) if c != body)
            else:
                stack.extend(reversed(current.children))
        return out

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
