"""One pass over a parsed file: symbols, imports, references and chunks.

This runs for every file of a workspace, in worker processes, so it is written for speed: one query
cursor per file captures definitions, imports, calls and identifiers together (the tree walk is the
dominant cost, and it happens once), references are packed into an ``array`` rather than objects, and
everything returned is plain tuples that pickle and msgpack cheaply.
"""

from __future__ import annotations

import functools
from array import array
from dataclasses import dataclass

import tree_sitter as ts

from ..languages import get, grammar, parser
from ..model import Import
from .chunks import RawChunk, Span, line_starts_of, make_chunks
from .spec import LanguageSpec
from .text import collapse

# (name, kind, container, sl, sc, el, ec, nsl, nsc, nel, nec, start_byte, end_byte, signature, doc, depth)
RawSymbol = tuple[str, str, str, int, int, int, int, int, int, int, int, int, int, str, str, int]
RawImport = tuple[str, tuple[str, ...], str, int]

_WRAPPERS = frozenset({"decorated_definition", "export_statement", "template_declaration"})
_DECLARATIONS = frozenset({"lexical_declaration", "variable_declaration", "field_declaration"})


@dataclass(slots=True)
class Extraction:
    symbols: list[RawSymbol]
    imports: list[RawImport]
    ref_names: list[str]
    # Flat triples (name index, start byte, end byte); the high bit of the name index marks a call.
    refs: array[int]
    chunks: list[RawChunk]
    line_starts: list[int]
    error_count: int


CALL_BIT = 1 << 31


@functools.cache
def spec_for(language: str) -> LanguageSpec:
    """The extraction spec of an index language (raises UnknownLanguageError, a ValueError, for others)."""
    return get(language).spec()


@functools.cache
def query_for(language: str) -> ts.Query:
    return ts.Query(grammar(language), spec_for(language).query)


def parse(language: str, source: bytes) -> ts.Tree:
    return parser(language).parse(source)


def extract(language: str, source: bytes, tree: ts.Tree | None = None) -> Extraction:
    """Extract everything the index stores about one file of ``language`` (a grammar name)."""
    spec = spec_for(language)
    if tree is None:
        tree = parse(language, source)
    root = tree.root_node
    captures = ts.QueryCursor(query_for(language)).captures(root)

    symbols = _symbols(spec, captures, source)
    imports: list[RawImport] = []
    for node in captures.get("import", ()):
        for found in spec.imports(node, source):
            imports.append((found.module, found.names, found.alias, found.line))
    imports.sort(key=lambda item: item[3])
    ref_names, refs = _references(captures, source)
    line_starts = line_starts_of(source)
    spans: list[Span] = [(s[11], s[12], s[15], _qualified(s)) for s in symbols]
    chunks = make_chunks(source, line_starts, spans)
    return Extraction(symbols, imports, ref_names, refs, chunks, line_starts,
                      _count_errors(root) if root.has_error else 0)


def _qualified(symbol: RawSymbol) -> str:
    return f"{symbol[2]}.{symbol[0]}" if symbol[2] else symbol[0]


def _symbols(spec: LanguageSpec, captures: dict[str, list[ts.Node]], source: bytes) -> list[RawSymbol]:
    found: dict[tuple[int, int], tuple[ts.Node, str]] = {}
    for capture, nodes in captures.items():
        if not capture.startswith("definition."):
            continue
        kind = capture[11:]
        for node in nodes:
            found.setdefault((node.start_byte, node.end_byte), (node, kind))
    ordered = sorted(found.items(), key=lambda item: (item[0][0], -item[0][1]))

    out: list[RawSymbol] = []
    # Enclosing definitions: (end byte, qualified name, kind).
    stack: list[tuple[int, str, str]] = []
    separator = spec.separator
    for (start, end), (node, kind) in ordered:
        while stack and stack[-1][0] <= start:
            stack.pop()
        name_node, scope = spec.name(node)
        if name_node is None:
            continue
        name = source[name_node.start_byte:name_node.end_byte].decode("utf-8", "replace")
        if not name:
            continue
        container, container_kind = (stack[-1][1], stack[-1][2]) if stack else ("", "")
        if scope:
            container = f"{container}{separator}{scope}" if container else scope
            container_kind = container_kind or "class"
        kind = spec.refine_kind(kind, node, container_kind, source)
        outer = node
        parent = node.parent
        if parent is not None and parent.type in _DECLARATIONS and _declarators(parent, node.type) == 1:
            outer = parent  # `const x = 1;`: the statement, not just the declarator
        while outer.parent is not None and outer.parent.type in _WRAPPERS:
            outer = outer.parent
        sp, ep = outer.start_point, node.end_point
        np_, nep = name_node.start_point, name_node.end_point
        out.append((
            name, kind, container, sp[0], sp[1], ep[0], ep[1], np_[0], np_[1], nep[0], nep[1],
            outer.start_byte, end, _signature(node, source), spec.docstring(node, source), len(stack),
        ))
        qualified = f"{container}{separator}{name}" if container else name
        stack.append((end, qualified, kind))
    return out


def _declarators(declaration: ts.Node, node_type: str) -> int:
    return sum(1 for child in declaration.named_children if child.type == node_type)


def _signature(node: ts.Node, source: bytes) -> str:
    start = node.start_byte
    body = node.child_by_field_name("body")
    if body is None and node.type == "variable_declarator":
        value = node.child_by_field_name("value")
        if value is not None:
            body = value.child_by_field_name("body")
        if node.parent is not None:
            start = node.parent.start_byte
    if body is not None and body.start_byte > start:
        end = body.start_byte
    else:
        newline = source.find(b"\n", start, node.end_byte)
        end = node.end_byte if newline == -1 else newline
    text = collapse(source[start:min(end, start + 1000)].decode("utf-8", "replace"))
    return text.rstrip(":{=; ").rstrip()


def _references(captures: dict[str, list[ts.Node]], source: bytes) -> tuple[list[str], array[int]]:
    names: dict[bytes, int] = {}
    packed: array[int] = array("I")
    append = packed.append
    calls = {node.start_byte for node in captures.get("call", ())}
    for node in captures.get("reference", ()):
        start, end = node.byte_range
        text = source[start:end]
        index = names.get(text)
        if index is None:
            index = names[text] = len(names)
        append(index | CALL_BIT if start in calls else index)
        append(start)
        append(end)
    return [n.decode("utf-8", "replace") for n in names], packed


def _count_errors(root: ts.Node) -> int:
    count = 0
    # Only descend into subtrees that contain errors: cheap on mostly-valid files.
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            count += 1
            continue
        if node.has_error:
            stack.extend(node.children)
    return count


def to_imports(raw: list[RawImport]) -> list[Import]:
    return [Import(m, tuple(n), a, line) for m, n, a, line in raw]
