"""The shape of one file from its syntax tree: nested symbols, folding ranges, selection ranges.

All three work on a live :class:`SourceFile` for any of the five languages, so an editor gets an
outline and folds for unsaved text without waiting for the index.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import tree_sitter as ts

from .model import Symbol
from .source import SourceFile

MAX_FOLDS = 5000


@dataclass(frozen=True, slots=True)
class OutlineItem:
    symbol: Symbol
    children: list[OutlineItem] = field(default_factory=list)


def outline(src: SourceFile) -> list[OutlineItem]:
    """Symbols nested by containment (a class holds its methods), in file order."""
    symbols = sorted(src.symbols, key=lambda s: (s.start_byte, -s.end_byte))
    roots: list[OutlineItem] = []
    stack: list[OutlineItem] = []
    for symbol in symbols:
        item = OutlineItem(symbol)
        while stack and not (stack[-1].symbol.start_byte <= symbol.start_byte
                             and symbol.end_byte <= stack[-1].symbol.end_byte):
            stack.pop()
        (stack[-1].children if stack else roots).append(item)
        stack.append(item)
    return roots


# -- folding ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fold:
    start_line: int
    end_line: int
    kind: str  # "region", "comment" or "imports" (LSP's FoldingRangeKind)


# Python blocks have no closing bracket: fold the compound statement from its header line.
_PYTHON_FOLDS = frozenset({
    "function_definition", "class_definition", "if_statement", "elif_clause", "else_clause", "for_statement",
    "while_statement", "try_statement", "except_clause", "finally_clause", "with_statement", "match_statement",
    "case_clause", "dictionary", "list", "tuple", "set", "argument_list", "parameters", "string",
    "parenthesized_expression", "list_comprehension", "dictionary_comprehension", "call",
})
_BRACE_FOLDS = frozenset({
    "statement_block", "class_body", "object", "array", "arguments", "template_string", "switch_body",
    "jsx_element", "interface_body", "enum_body", "object_type", "formal_parameters", "block",
    "constructor_body", "array_initializer", "argument_list", "element_value_array_initializer",
    "compound_statement", "field_declaration_list", "declaration_list", "enumerator_list", "initializer_list",
    "parameter_list", "preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif", "string_literal",
    "raw_string_literal", "switch_block", "module", "named_imports",
})
_COMMENTS = frozenset({"comment", "line_comment", "block_comment"})
_IMPORTS = frozenset({
    "import_statement", "import_from_statement", "future_import_statement", "import_declaration",
    "preproc_include", "using_declaration",
})
_CLOSERS = frozenset(b"})]")


def folding_ranges(src: SourceFile) -> list[Fold]:
    tree = src.tree
    if tree is None:
        return []
    kinds = _PYTHON_FOLDS if src.language == "python" else _BRACE_FOLDS
    by_start: dict[int, Fold] = {}
    data = src.data

    def add(fold: Fold) -> None:
        if fold.end_line <= fold.start_line:
            return
        known = by_start.get(fold.start_line)
        if known is None or fold.end_line > known.end_line:
            by_start[fold.start_line] = fold

    cursor = tree.walk()
    visited_children = False
    while len(by_start) < MAX_FOLDS:
        node = cursor.node
        assert node is not None
        if not visited_children:
            start, end = node.start_point[0], node.end_point[0]
            if end > start:
                if node.type in kinds:
                    last = data[node.end_byte - 1] if node.end_byte > 0 else 0
                    closer_alone = last in _CLOSERS and not data[src.line_starts[end]:node.end_byte - 1].strip()
                    add(Fold(start, end - 1 if closer_alone else end, "region"))
                elif node.type in _COMMENTS and data[node.start_byte:node.start_byte + 2] == b"/*":
                    add(Fold(start, end, "comment"))
            if cursor.goto_first_child():
                continue
        if cursor.goto_next_sibling():
            visited_children = False
            continue
        if not cursor.goto_parent():
            break
        visited_children = True
    _runs(tree.root_node, add)
    return sorted(by_start.values(), key=lambda f: f.start_line)


def _runs(root: ts.Node, add: object) -> None:
    """Runs of line comments and of imports among a block's direct children fold as one."""
    assert callable(add)
    stack = [root]
    while stack:
        node = stack.pop()
        run_kind, run_start, run_end = "", -1, -1
        for child in node.named_children:
            kind = "comment" if child.type in _COMMENTS else "imports" if child.type in _IMPORTS else ""
            if kind and kind == run_kind and child.start_point[0] <= run_end + 1:
                run_end = child.end_point[0]
            else:
                if run_kind:
                    add(Fold(run_start, run_end, run_kind))
                run_kind, run_start, run_end = kind, child.start_point[0], child.end_point[0]
            if child.named_child_count and child.end_point[0] > child.start_point[0]:
                stack.append(child)
        if run_kind:
            add(Fold(run_start, run_end, run_kind))


# -- selection ranges ------------------------------------------------------------------------------


def selection_ranges(src: SourceFile, line: int, col: int) -> list[tuple[int, int]]:
    """Byte ranges to grow a selection through, innermost first: the word, then each enclosing node."""
    out: list[tuple[int, int]] = []
    word = src.word_at(line, col)
    if word is not None:
        out.append(word)
    tree = src.tree
    if tree is not None:
        offset = src.offset(line, col)
        node: ts.Node | None = tree.root_node.descendant_for_byte_range(offset, offset)
        while node is not None:
            rng = (node.start_byte, node.end_byte)
            if rng[1] > rng[0] and (not out or (rng[0] <= out[-1][0] and out[-1][1] <= rng[1] and rng != out[-1])):
                out.append(rng)
            node = node.parent
    if not out or out[-1] != (0, len(src.data)):
        out.append((0, len(src.data)))
    return out
