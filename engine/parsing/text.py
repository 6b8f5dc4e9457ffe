"""Small text helpers shared by the language specs."""

from __future__ import annotations

import inspect
import re

import tree_sitter as ts

_WS = re.compile(r"\s+")
MAX_SIGNATURE = 240
MAX_DOC = 2000


def node_text(node: ts.Node, source: bytes) -> str:
    return source[node.start_byte:node.end_byte].decode("utf-8", "replace")


def collapse(text: str, limit: int = MAX_SIGNATURE) -> str:
    text = _WS.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clean_comment(text: str) -> str:
    """Strip comment markers (`//`, `/* */`, `/** */`, leading `*`, `#`) and dedent."""
    text = text.strip()
    if text.startswith("/*"):
        text = text[2:]
        text = text.removeprefix("*")
        text = text.removesuffix("*/")
        lines = [re.sub(r"^\s*\* ?", "", line) for line in text.splitlines()]
    else:
        lines = [re.sub(r"^\s*(//+|#+)!? ?", "", line) for line in text.splitlines()]
    return inspect.cleandoc("\n".join(lines))[:MAX_DOC]


def leading_comment(node: ts.Node, source: bytes) -> str:
    """The comment block right above a definition (or above its export/template/decorator wrapper)."""
    target = node
    parent = node.parent
    while parent is not None and parent.type in _WRAPPERS:
        target = parent
        parent = parent.parent
    parts: list[str] = []
    line = target.start_point[0]
    sibling = target.prev_sibling
    while sibling is not None and sibling.type in ("comment", "line_comment", "block_comment"):
        if sibling.end_point[0] < line - 1:
            break
        parts.append(node_text(sibling, source))
        line = sibling.start_point[0]
        sibling = sibling.prev_sibling
    if not parts:
        return ""
    return "\n".join(clean_comment(p) for p in reversed(parts)).strip()


_WRAPPERS = frozenset({
    "export_statement", "template_declaration", "decorated_definition", "ambient_declaration",
    "lexical_declaration", "variable_declaration",
})


def python_docstring(node: ts.Node, source: bytes) -> str:
    body = node.child_by_field_name("body")
    if body is None or body.named_child_count == 0:
        return ""
    first = body.named_children[0]
    if first.type != "expression_statement" or first.named_child_count == 0:
        return ""
    string = first.named_children[0]
    if string.type != "string":
        return ""
    raw = node_text(string, source)
    raw = raw.lstrip("rRbBuUfF")
    for quote in ('"""', "'''", '"', "'"):
        if raw.startswith(quote) and raw.endswith(quote) and len(raw) >= 2 * len(quote):
            raw = raw[len(quote):-len(quote)]
            break
    return inspect.cleandoc(raw)[:MAX_DOC]
