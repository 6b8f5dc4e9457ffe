"""Completion from the syntax tree and the index, for every language (and Python's fast path).

Candidates, best first: names bound in the scopes around the cursor (locals, parameters, imports), the
file's own definitions, members of the enclosing class after ``self.``/``this.``, then workspace
symbols matching the typed prefix (fuzzy, ranked by the index), then the language's keywords. After
``obj.`` only member-like names are offered: the file's members and the names used after a dot
elsewhere in the file, then workspace members.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .scopes import FileScopes, family
from .search.names import fuzzy_score
from .source import SourceFile

if TYPE_CHECKING:
    from .workspace import Workspace

MAX_ITEMS = 200
_KEYWORDS = {
    "python": tuple(keyword.kwlist) + ("self",),
    "js": ("async", "await", "break", "case", "catch", "class", "const", "continue", "default", "delete", "do",
           "else", "export", "extends", "false", "finally", "for", "function", "if", "import", "in", "instanceof",
           "let", "new", "null", "return", "static", "super", "switch", "this", "throw", "true", "try",
           "typeof", "undefined", "var", "void", "while", "yield", "interface", "type", "enum", "readonly"),
    "java": ("abstract", "boolean", "break", "byte", "case", "catch", "char", "class", "continue", "default",
             "do", "double", "else", "enum", "extends", "final", "finally", "float", "for", "if", "implements",
             "import", "instanceof", "int", "interface", "long", "new", "null", "package", "private",
             "protected", "public", "return", "short", "static", "super", "switch", "this", "throw", "throws",
             "try", "void", "while", "var", "record", "true", "false"),
    "c": ("auto", "bool", "break", "case", "char", "class", "const", "constexpr", "continue", "default",
          "delete", "do", "double", "else", "enum", "false", "float", "for", "if", "int", "long", "namespace",
          "new", "nullptr", "private", "protected", "public", "return", "short", "sizeof", "static",
          "struct", "switch", "template", "this", "true", "typedef", "typename", "unsigned", "using",
          "virtual", "void", "while"),
}
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


def complete(ws: Workspace | None, src: SourceFile, line: int, col: int) -> list[Candidate]:
    prefix, member, start = context_at(src, line, col)
    fam = family(src.language)
    seen: set[str] = set()
    out: list[Candidate] = []

    def add(candidate: Candidate) -> None:
        if candidate.label in seen or candidate.label == prefix and candidate.sort_group > 0:
            return
        if prefix and fuzzy_score(prefix, candidate.label) <= 0 and not candidate.label.startswith(prefix):
            return
        seen.add(candidate.label)
        out.append(candidate)

    symbols = src.symbols
    if member:
        receiver = _receiver(src, start)
        if receiver in ("self", "this", "cls"):
            classes = [s for s in symbols if s.kind in ("class", "struct", "interface")
                       and s.start_byte <= start < s.end_byte]
            if classes:
                owner = max(classes, key=lambda s: s.start_byte).qualified_name
                for s in symbols:
                    if s.container == owner:
                        add(Candidate(s.name, s.kind, s.signature, s.doc, 0, src.path))
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
        node = tree.root_node.descendant_for_byte_range(max(start - 1, 0), max(start - 1, 0))
        if node is not None:
            for scope in scopes.scopes_around(node):
                for binding_node in _bindings_in(scopes, scope):
                    if binding_node.end_byte == src.offset(line, col):
                        continue  # the word being typed
                    add(Candidate(src.node_text(binding_node), "variable",
                                  src.line_text(binding_node.start_point[0]).strip()[:120], "", 0, src.path))
    for s in symbols:
        if s.depth == 0:
            add(Candidate(s.name, s.kind, s.signature, s.doc, 1, src.path))
    if ws is not None and prefix:
        for hit in ws.search_symbols(prefix, limit=50, languages=_languages(src.language)):
            add(Candidate(hit.name, hit.kind, hit.signature, "", 2, hit.path))
    for word in _KEYWORDS[fam]:
        add(Candidate(word, "keyword", "", "", 3))
    return out[:MAX_ITEMS]


def _bindings_in(scopes: FileScopes, scope: object) -> list:  # type: ignore[type-arg]
    src = scopes.src
    extraction = src.extraction
    tree = src.tree
    if extraction is None or tree is None:
        return []
    out = []
    seen: set[str] = set()
    refs = extraction.refs
    mask = (1 << 31) - 1
    names = extraction.ref_names
    root = tree.root_node
    start, end = scope.start_byte, scope.end_byte  # type: ignore[attr-defined]
    for i in range(0, len(refs), 3):
        if not start <= refs[i + 1] < end:
            continue
        name = names[refs[i] & mask]
        if name in seen:
            continue
        node = root.named_descendant_for_byte_range(refs[i + 1], refs[i + 2])
        if node is None:
            continue
        binding = scopes.binding(node)
        if binding is not None and binding.scope == scope:
            seen.add(name)
            out.append(node)
    return out


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
    import re

    return list(dict.fromkeys(re.findall(r"(?<=\.)[A-Za-z_$][\w$]*", src.text)))


def _languages(language: str | None) -> tuple[str, ...]:
    fam = family(language)
    return {"python": ("python",), "js": ("javascript", "typescript"), "java": ("java",),
            "c": ("cpp",)}[fam]
