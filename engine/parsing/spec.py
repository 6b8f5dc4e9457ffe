"""What the generic extractor needs to know about one language.

A spec is a tree-sitter query plus a few small hooks for what a query cannot say (where a C++ name hides
in its declarator chain, what an import statement brings in). Capture names in the query:

- ``@definition.<kind>``: a definition node; ``<kind>`` is one of ``nexus.engine.model.KINDS``
- ``@import``: an import statement (the spec's ``imports`` hook reads it)
- ``@reference``: an identifier-like node
- ``@call``: the identifier naming a called function (also captured as a reference)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import tree_sitter as ts

from ..model import Import

NameHook = Callable[[ts.Node], "tuple[ts.Node | None, str]"]
"""(name node, extra container text): C++ `Foo::bar` names `bar` with container `Foo`."""


@dataclass(frozen=True, slots=True)
class LanguageSpec:
    grammar: str
    query: str
    separator: str  # between container and name in qualified names
    name: NameHook
    imports: Callable[[ts.Node, bytes], list[Import]]
    docstring: Callable[[ts.Node, bytes], str]
    # Refines the query's kind with context the query cannot see (Python method vs function).
    refine_kind: Callable[[str, ts.Node, str, bytes], str]
    # Node types whose "body" child ends a definition's signature when the node has none itself.
    body_fields: tuple[str, ...] = ("body",)


def field_name(node: ts.Node) -> tuple[ts.Node | None, str]:
    return node.child_by_field_name("name"), ""


def keep_kind(kind: str, node: ts.Node, container_kind: str, source: bytes) -> str:
    return kind
