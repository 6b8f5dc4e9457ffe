"""Turning C++ notebook cells into whole programs.

A cell is parsed with tree-sitter-cpp as a translation unit (its grammar accepts statements at top
level). Top-level declarations (``#include``, functions, classes, globals, namespaces, templates,
``using``) are kept for every later cell; the remaining statements run inside a generated ``main`` for
this cell only. A declaration whose name was declared before replaces the earlier one in place, so
re-running an edited cell works; a cell with its own ``int main`` runs that instead. ``#line`` markers
make compiler errors point at ``cell[N]:LINE``.

What carries over is definitions, not run-time state: a later cell re-runs global initializers in a
fresh process, and statements of earlier cells are not replayed.
"""

from __future__ import annotations

import dataclasses

import tree_sitter_cpp
from tree_sitter import Language, Node, Parser

_LANGUAGE = Language(tree_sitter_cpp.language())

DECLARATION_TYPES = frozenset(
    {
        "preproc_include",
        "preproc_def",
        "preproc_function_def",
        "preproc_call",
        "preproc_if",
        "preproc_ifdef",
        "using_declaration",
        "alias_declaration",
        "type_definition",
        "declaration",
        "function_definition",
        "class_specifier",
        "struct_specifier",
        "union_specifier",
        "enum_specifier",
        "template_declaration",
        "template_instantiation",
        "namespace_definition",
        "namespace_alias_definition",
        "linkage_specification",
        "concept_definition",
        "static_assert_declaration",
    }
)

PRELUDE = """#include <cstdio>
#include <iostream>
// line-buffered stdout, so output streams to the notebook while the program runs
static const int nexus_line_buffered_ = (std::setvbuf(stdout, nullptr, _IOLBF, 0), 0);
"""


@dataclasses.dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of one cell's source, with where it came from for ``#line``."""

    text: str
    cell: str
    line: int  # 1-based line in the cell
    key: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class Cell:
    declarations: tuple[Chunk, ...]
    statements: tuple[Chunk, ...]
    has_main: bool


def split(source: str, label: str) -> Cell:
    """Split a cell into kept declarations and this cell's statements."""
    data = source.encode("utf-8")
    tree = Parser(_LANGUAGE).parse(data)
    declarations: list[Chunk] = []
    statements: list[Chunk] = []
    has_main = False
    children = list(tree.root_node.children)
    for index, node in enumerate(children):
        text = data[node.start_byte : node.end_byte].decode("utf-8", "replace")
        if (
            node.type == ";"
            and declarations
            and index > 0
            and children[index - 1].type
            in ("class_specifier", "struct_specifier", "union_specifier", "enum_specifier")
        ):
            last = declarations[-1]
            declarations[-1] = dataclasses.replace(last, text=last.text + ";")
            continue
        chunk = Chunk(text, label, node.start_point[0] + 1)
        if node.type in DECLARATION_TYPES and not node.has_error:
            key = declaration_key(node, data)
            if key == "function:main":
                has_main = True
            declarations.append(dataclasses.replace(chunk, key=key or text))
        else:
            statements.append(chunk)
    return Cell(tuple(declarations), tuple(statements), has_main)


def declaration_key(node: Node, data: bytes) -> str:
    """What a declaration defines, so a later one with the same key replaces it (empty: keep both)."""

    def text(n: Node | None) -> str:
        return data[n.start_byte : n.end_byte].decode("utf-8", "replace") if n is not None else ""

    kind = node.type
    if kind == "template_declaration":
        inner = next((c for c in node.named_children if c.type != "template_parameter_list"), None)
        return "template " + declaration_key(inner, data) if inner is not None else ""
    if kind in ("class_specifier", "struct_specifier", "union_specifier", "enum_specifier"):
        return f"type:{text(node.child_by_field_name('name'))}"
    if kind == "function_definition":
        declarator = node.child_by_field_name("declarator")
        while declarator is not None and declarator.type not in ("function_declarator",):
            declarator = declarator.child_by_field_name("declarator")
        if declarator is None:
            return ""
        name = text(declarator.child_by_field_name("declarator"))
        if name == "main":
            return "function:main"
        params = text(declarator.child_by_field_name("parameters"))
        return f"function:{name}{''.join(params.split())}"
    if kind == "declaration":
        names = []
        for child in node.children_by_field_name("declarator"):
            target: Node | None = child
            while target is not None and target.type not in (
                "identifier",
                "qualified_identifier",
                "field_identifier",
            ):
                target = target.child_by_field_name("declarator")
            if target is not None:
                names.append(text(target))
        if any(c.type == "function_declarator" for c in node.children_by_field_name("declarator")):
            return ""  # a prototype: harmless to repeat
        return "var:" + ",".join(names) if names else ""
    if kind in ("type_definition", "alias_declaration"):
        named = node.child_by_field_name("name") or node.child_by_field_name("declarator")
        return f"type:{text(named)}" if named is not None else ""
    return ""


class Program:
    """The declarations kept so far, and the program a new cell compiles to."""

    def __init__(self) -> None:
        self.kept: list[Chunk] = []

    def with_cell(self, cell: Cell) -> list[Chunk]:
        """The declarations the program for ``cell`` uses: kept ones, replaced or extended by the cell's."""
        kept = list(self.kept)
        for chunk in cell.declarations:
            if chunk.key == "function:main":
                continue
            same = next((i for i, old in enumerate(kept) if old.key == chunk.key), None)
            if same is None:
                kept.append(chunk)
            else:
                kept[same] = chunk
        return kept

    def source(self, cell: Cell) -> str:
        parts = [PRELUDE]
        for chunk in self.with_cell(cell):
            parts.append(f'#line {chunk.line} "{chunk.cell}"\n{chunk.text}\n')
        if cell.has_main:
            main = next(c for c in cell.declarations if c.key == "function:main")
            parts.append(f'#line {main.line} "{main.cell}"\n{main.text}\n')
        else:
            parts.append("int main() {\n")
            for chunk in cell.statements:
                parts.append(f'#line {chunk.line} "{chunk.cell}"\n{chunk.text}\n')
            parts.append("return 0;\n}\n")
        return "".join(parts)

    def commit(self, cell: Cell) -> None:
        """Keep the cell's declarations: called once it compiled."""
        self.kept = self.with_cell(cell)
