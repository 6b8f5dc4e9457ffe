"""Syntax errors from tree-sitter, worded for a person.

tree-sitter recovers from errors with two kinds of nodes: ERROR (tokens it could not fit) and MISSING
(a token it assumed, e.g. a `;` or `)`). Neither carries a message, so this module writes one from
what surrounds them: an unclosed bracket is reported at the bracket, a stray token by its text, a
missing token by what it is and what it follows.
"""

from __future__ import annotations

from dataclasses import dataclass

import tree_sitter as ts

from .model import Span
from .source import SourceFile

MAX_PROBLEMS = 100
_OPENERS = {b"(": b")", b"[": b"]", b"{": b"}"}
_CLOSERS = {v: k for k, v in _OPENERS.items()}


@dataclass(frozen=True, slots=True)
class Problem:
    span: Span
    message: str
    severity: str  # "error", "warning", "information", "hint"
    source: str  # "syntax", "ruff"
    code: str = ""
    url: str = ""
    fix: tuple[tuple[Span, str], ...] = ()  # edits (span, new text) that fix it, if known
    fix_title: str = ""


def syntax_errors(src: SourceFile) -> list[Problem]:
    """Every syntax error in the file, at most ``MAX_PROBLEMS``, in file order."""
    tree = src.tree
    if tree is None or not tree.root_node.has_error:
        return []
    found: list[Problem] = []
    stack = [tree.root_node]
    while stack and len(found) < MAX_PROBLEMS:
        node = stack.pop()
        if node.is_missing:
            found.append(_missing(src, node))
            continue
        if node.is_error:
            found.append(_error(src, node))
            continue
        if node.has_error:
            stack.extend(reversed(node.children))
    found.sort(key=lambda p: (p.span.start_line, p.span.start_col))
    return found


def _label(node: ts.Node) -> str:
    kind = node.type
    if not node.is_named:
        return f"'{kind}'"
    return {"identifier": "a name", "type_identifier": "a type name", "block": "an indented block",
            "expression": "an expression", "string": "a string"}.get(kind, kind.replace("_", " "))


def _missing(src: SourceFile, node: ts.Node) -> Problem:
    before = _previous_leaf(node)
    where = f" after '{_short(src.node_text(before))}'" if before is not None else ""
    span = src.span_of(node)
    if before is not None and node.start_byte == node.end_byte:
        # A zero-width squiggle is easy to miss: underline the token it should follow.
        span = src.span_of(before) if before.end_point[0] == node.start_point[0] else span
    return Problem(span, f"Syntax error: missing {_label(node)}{where}", "error", "syntax")


def _error(src: SourceFile, node: ts.Node) -> Problem:
    leaves = _leaves(node)
    unclosed = _unclosed(src, leaves)
    if unclosed is not None:
        return Problem(src.span_of(unclosed), f"Syntax error: '{src.node_text(unclosed)}' is never closed",
                       "error", "syntax")
    first = leaves[0] if leaves else node
    text = _short(src.node_text(first))
    if node.end_byte >= len(src.data.rstrip()) and not text:
        message = "Syntax error: unexpected end of file"
    elif first.type in ("\"", "'", "`") or text in ('"', "'", "`"):
        message = f"Syntax error: unterminated string starting with {text}"
    else:
        parent = node.parent
        inside = f" in {_label(parent)}" if parent is not None and parent.parent is not None else ""
        message = f"Syntax error: unexpected '{text}'{inside}"
    # Underline the stray tokens, but never more than their first line.
    span = src.span_of(node)
    if span.end_line > span.start_line:
        line_end = len(src.line_text(span.start_line).encode("utf-8"))
        span = type(span)(span.start_line, span.start_col, span.start_line, max(line_end, span.start_col))
    return Problem(span, message, "error", "syntax")


def _unclosed(src: SourceFile, leaves: list[ts.Node]) -> ts.Node | None:
    stack: list[ts.Node] = []
    for leaf in leaves:
        text = src.data[leaf.start_byte:leaf.end_byte]
        if text in _OPENERS:
            stack.append(leaf)
        elif text in _CLOSERS:
            if stack and _OPENERS[src.data[stack[-1].start_byte:stack[-1].end_byte]] == text:
                stack.pop()
            else:
                return None
    return stack[0] if stack else None


def _leaves(node: ts.Node, limit: int = 2000) -> list[ts.Node]:
    out: list[ts.Node] = []
    stack = [node]
    while stack and len(out) < limit:
        current = stack.pop()
        if current.child_count == 0:
            if current.end_byte > current.start_byte:
                out.append(current)
        else:
            stack.extend(reversed(current.children))
    return out


def _previous_leaf(node: ts.Node) -> ts.Node | None:
    current: ts.Node | None = node
    while current is not None:
        sibling = current.prev_sibling
        while sibling is not None:
            if sibling.end_byte > sibling.start_byte:
                while sibling.child_count:
                    last = sibling.children[-1]
                    if last.end_byte == last.start_byte and sibling.child_count > 1:
                        last = sibling.children[-2]
                    sibling = last
                return sibling
            sibling = sibling.prev_sibling
        current = current.parent
    return None


def _short(text: str, limit: int = 30) -> str:
    text = text.strip().splitlines()[0] if text.strip() else ""
    return text if len(text) <= limit else text[: limit - 1] + "…"
