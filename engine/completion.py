"""Completion from the syntax tree and the index, for every language (and Python's fast path).

Candidates, best first: names bound in the scopes around the cursor (locals, parameters, imports), the
file's own definitions, members of the enclosing class after ``self.``/``this.``, then workspace
symbols matching the typed prefix (fuzzy, ranked by the index), then the language's keywords. After
``obj.`` only member-like names are offered: the file's members and the names used after a dot
elsewhere in the file, then workspace members.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import tree_sitter as ts

from .languages import registry
from .model import Symbol
from .scopes import FileScopes
from .source import SourceFile

if TYPE_CHECKING:
    from .workspace import Workspace

MAX_ITEMS = 200
_DOTTED = re.compile(r"(?<=\.)[A-Za-z_$][\w$]*")
_MEMBER_KINDS = frozenset({"method", "field", "property", "constructor", "enum_member"})


@dataclass(frozen=True, slots=True)
class Candidate:
    label: str
    kind: str  # a model KINDS value, "keyword" or "text"
    detail: str  # signature or where it comes from
    doc: str
    sort_group: int  # 0 locals, 1 file, 2 workspace, 3 keywords
    path: str = ""  # where it is defined, when known


def context_at(src: SourceFile, line: int, col: int) -> tuple[str, bool, int]:
    """(typed prefix, after a member dot, byte offset where the prefix starts)."""
    offset = src.offset(line, col)
    data = src.data
    start = offset
    while start > 0 and (data[start - 1] >= 0x80 or chr(data[start - 1]).isalnum() or data[start - 1] in b"_$"):
        start -= 1
    prefix = data[start:offset].decode("utf-8", "replace")
    before = data[max(0, start - 2):start]
    member = before.endswith(b".") or before.endswith(b"->") or before.endswith(b"::")
    return prefix, member, start


def complete(ws: Workspace | None, src: SourceFile, line: int, col: int,
             file_symbols: list[Symbol] | None = None) -> list[Candidate]:
    """Candidates at (line, byte col), best first. ``file_symbols``: this file's symbols as the index
    holds them, if it does; they stand in for extracting them from the buffer (a large file's costliest
    step), while names bound in the scopes around the cursor always come from the live buffer."""
    prefix, member, start = context_at(src, line, col)
    language = registry.lookup(src.language)
    seen: set[str] = set()
    out: list[Candidate] = []

    def add(candidate: Candidate) -> None:
        if candidate.label in seen or candidate.label == prefix and candidate.sort_group > 0:
            return
        if prefix and not _subsequence(prefix, candidate.label):
            return
        seen.add(candidate.label)
        out.append(candidate)

    symbols = file_symbols if file_symbols is not None else src.symbols
    if member:
        receiver = _receiver(src, start)
        if receiver in ("self", "this", "cls"):
            owner = _enclosing_class(src, start)
            if owner is not None:
                scopes = FileScopes(src)
                body = owner.child_by_field_name("body") or owner
                for node in _bindings_in(scopes, body if body.type in scopes.scope_types else owner):
                    add(Candidate(src.node_text(node), "variable", src.line_text(node.start_point[0]).strip()[:120],
                                  "", 0, src.path))
                name_node = owner.child_by_field_name("name")
                owner_name = src.node_text(name_node) if name_node is not None else ""
                for s in symbols:
                    if s.container and s.container.rsplit(".", 1)[-1].rsplit("::", 1)[-1] == owner_name:
                        add(Candidate(s.name, s.kind, s.signature, s.doc, 0, src.path))
        for path, s in _module_members(ws, src, start):
            add(Candidate(s.name, s.kind, s.signature, s.doc, 0, path))
        for s in symbols:
            if s.kind in _MEMBER_KINDS:
                add(Candidate(s.name, s.kind, s.signature, s.doc, 1, src.path))
        for name in _dotted_names(src):
            add(Candidate(name, "text", "", "", 1))
        if ws is not None and prefix:
            for hit in ws.search_symbols(prefix, limit=50):
                if hit.kind in _MEMBER_KINDS:
                    add(Candidate(hit.name, hit.kind, hit.signature, "", 2, hit.path))
        return out[:MAX_ITEMS]

    scopes = FileScopes(src)
    tree = src.tree
    if tree is not None:
        offset = src.offset(line, col)
        cursor_node = tree.root_node.descendant_for_byte_range(start, max(start, offset - 1))
        if cursor_node is not None:
            # The cursor between statements lands on the function (or class) itself: its scope counts.
            for scope in scopes.scopes_around(cursor_node, include_self=True):
                for binding_node in _bindings_in(scopes, scope):
                    if binding_node.end_byte == src.offset(line, col):
                        continue  # the word being typed
                    add(Candidate(src.node_text(binding_node), "variable",
                                  src.line_text(binding_node.start_point[0]).strip()[:120], "", 0, src.path))
    for s in symbols:
        if s.depth == 0:
            add(Candidate(s.name, s.kind, s.signature, s.doc, 1, src.path))
    for name in language.builtins if language is not None else ():
        add(Candidate(name, "class" if name[:1].isupper() else "function", "builtin", "", 1))
    if ws is not None and prefix:
        languages = registry.family_members(language.name) if language is not None else ()
        for hit in ws.search_symbols(prefix, limit=50, languages=languages):
            add(Candidate(hit.name, hit.kind, hit.signature, "", 2, hit.path))
    for word in language.keywords if language is not None else ():
        add(Candidate(word, "keyword", "", "", 3))
    return out[:MAX_ITEMS]


def _bindings_in(scopes: FileScopes, scope: ts.Node) -> list[ts.Node]:
    """The identifiers that bind a name in ``scope`` (first binding of each name), from the scope's own
    code: a module costs its top-level statements, not every identifier of a large file."""
    out = []
    seen: set[str] = set()
    for node in scopes.own_identifiers(scope):
        binding = scopes.binding(node)
        if binding is None or binding.scope != scope:
            continue
        name = scopes.src.node_text(node)
        if name not in seen:
            seen.add(name)
            out.append(node)
    return out


def _module_members(ws: Workspace | None, src: SourceFile, start: int) -> list[tuple[str, Symbol]]:
    """After ``module.``, where ``module`` is imported in this file and indexed: its top-level names."""
    tree = src.tree
    if ws is None or tree is None or start < 2 or src.data[start - 1:start] != b".":
        return []
    node = tree.root_node.named_descendant_for_byte_range(start - 2, start - 2)
    if node is None or node.type != "identifier" or node.end_byte != start - 1:
        return []
    binding = FileScopes(src).resolve(node)
    if binding is None or binding.kind != "import":
        return []
    from .errors import NexusError
    from .navigation import Navigator

    out: list[tuple[str, Symbol]] = []
    for target in Navigator(ws, src, symbols=False).imported(binding):
        if target.symbol is not None:
            continue  # a name imported from a module, not the module
        try:
            out.extend((target.path, s) for s in ws.symbols(target.path) if s.depth == 0)
        except NexusError:
            continue
    return out


def _subsequence(typed: str, label: str) -> bool:
    """Whether ``label`` has the typed characters in order (case-insensitive), as editors filter."""
    position = 0
    lowered = label.lower()
    for char in typed.lower():
        position = lowered.find(char, position) + 1
        if not position:
            return False
    return True


_CLASSES = frozenset({"class_definition", "class_declaration", "class_specifier", "struct_specifier",
                      "interface_declaration", "abstract_class_declaration", "class", "enum_declaration",
                      "record_declaration"})


def _enclosing_class(src: SourceFile, offset: int) -> ts.Node | None:
    tree = src.tree
    if tree is None:
        return None
    node: ts.Node | None = tree.root_node.descendant_for_byte_range(max(offset - 1, 0), max(offset - 1, 0))
    while node is not None and node.type not in _CLASSES:
        node = node.parent
    return node


def _receiver(src: SourceFile, start: int) -> str:
    data = src.data
    end = start - 1
    while end > 0 and data[end - 1:end] in (b"-", b":", b"."):
        end -= 1
    begin = end
    while begin > 0 and (chr(data[begin - 1]).isalnum() or data[begin - 1] in b"_$"):
        begin -= 1
    return data[begin:end].decode("utf-8", "replace")


def _dotted_names(src: SourceFile) -> list[str]:
    return src.memo("dotted_names", lambda: list(dict.fromkeys(_DOTTED.findall(src.text))))
