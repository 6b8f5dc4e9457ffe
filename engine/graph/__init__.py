"""The code graph: definitions, uses, calls and imports between files and symbols, kept in LMDB and
synced from the engine index; personalised PageRank over it; the repo map.

Exports load on first use: the parsing workers and every `nexus index` import ``graph.facts`` and
``graph.store``, and must not pay for numpy (the ranking's) on the way."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .queries import CallEdge, CodeGraph, Definition, ImportEdge
    from .rank import FileGraph
    from .store import GraphStore, SyncSummary, sync

_WHERE = {"CallEdge": "queries", "CodeGraph": "queries", "Definition": "queries", "ImportEdge": "queries",
          "FileGraph": "rank", "GraphStore": "store", "SyncSummary": "store", "sync": "store"}

__all__ = ["CallEdge", "CodeGraph", "Definition", "FileGraph", "GraphStore", "ImportEdge", "SyncSummary", "sync"]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
