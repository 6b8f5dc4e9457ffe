"""Open documents: incremental edits (UTF-16 positions, non-ASCII text) keep the text right, and the
syntax tree re-parsed incrementally from the edited previous tree is the tree a full parse gives.

With syntax errors in the text, tree-sitter's error recovery may settle differently when it re-uses an
old tree (an unterminated string, say): there the incremental tree must still cover the whole text."""

from __future__ import annotations

import tree_sitter as ts
from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types

from nexus.engine.source import SourceFile
from nexus.lsp_server.documents import Documents

BASE = 'def größe(a, b):\n    """Ünïcode 😀 doc."""\n    return a + b\n\n\nclass Box:\n    size = größe(1, 2)\n'
PIECES = ["x", "\n", "def f():\n    pass\n", "(", ")", "😀", "ü = 1\n", "    ", "#", "'", '"""', "import os\n", ""]


def utf16_position(text: str, offset: int) -> types.Position:
    before = text[:offset]
    line = before.count("\n")
    column = before[before.rfind("\n") + 1:]
    return types.Position(line, len(column.encode("utf-16-le")) // 2)


def nodes(root: ts.Node) -> list[tuple[str, int, int, tuple[int, int], tuple[int, int]]]:
    """Every node with its byte range and (row, column) points, in tree order."""
    out, stack = [], [root]
    while stack:
        node = stack.pop()
        out.append((node.type, node.start_byte, node.end_byte, tuple(node.start_point), tuple(node.end_point)))
        stack.extend(reversed(node.children))
    return out


edits = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 40), st.sampled_from(PIECES)), min_size=1,
                 max_size=12)


@settings(max_examples=150, deadline=None)
@given(edits=edits, parse_between=st.lists(st.booleans(), min_size=12, max_size=12))
def test_incremental_edits_match_a_full_parse(edits: list[tuple[int, int, str]], parse_between: list[bool]) -> None:
    documents = Documents()
    doc = documents.open(types.TextDocumentItem("file:///tmp/doc.py", "python", 1, BASE), "doc.py")
    assert doc.source.tree is not None
    expected = BASE
    for (where, length, piece), parse_now in zip(edits, parse_between, strict=False):
        start = where % (len(expected) + 1)
        end = min(len(expected), start + length)
        change = types.TextDocumentContentChangePartial(
            range=types.Range(utf16_position(expected, start), utf16_position(expected, end)), text=piece)
        doc.apply(change)
        expected = expected[:start] + piece + expected[end:]
        if parse_now:  # sometimes several edits pile up before anything parses
            assert doc.source.tree is not None
    assert doc.text == expected
    incremental = doc.source.tree
    full = SourceFile("doc.py", expected, "python").tree
    assert incremental is not None and full is not None
    if full.root_node.has_error:
        assert incremental.root_node.end_byte == full.root_node.end_byte == len(expected.encode())
    else:
        assert nodes(incremental.root_node) == nodes(full.root_node)
        assert [s.name for s in doc.source.symbols] == [s.name for s in SourceFile("doc.py", expected, "python").symbols]


def test_typing_a_method_keystroke_by_keystroke() -> None:
    documents = Documents()
    doc = documents.open(types.TextDocumentItem("file:///tmp/typed.py", "python", 1, BASE), "typed.py")
    typed = '\n    def perimeter(self, ünits: int = 2) -> float:\n        """Around 😀."""\n        return 2 * ünits\n'
    text, at = BASE, BASE.index("\n    size")
    compared = 0
    for char in typed:
        doc.apply(types.TextDocumentContentChangePartial(
            range=types.Range(utf16_position(text, at), utf16_position(text, at)), text=char))
        text = text[:at] + char + text[at:]
        at += 1
        full = SourceFile("typed.py", text, "python").tree
        assert doc.source.tree is not None and full is not None
        if not full.root_node.has_error:
            assert nodes(doc.source.tree.root_node) == nodes(full.root_node)
            compared += 1
    assert doc.text == text and compared > 10
    assert [s.name for s in doc.source.symbols] == ["größe", "Box", "perimeter", "size"]
