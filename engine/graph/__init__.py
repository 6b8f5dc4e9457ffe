"""The code graph: definitions, uses, calls and imports between files and symbols, kept in LMDB and
synced from the engine index; personalised PageRank over it; the repo map."""

from .queries import CallEdge, CodeGraph, Definition, ImportEdge
from .rank import FileGraph
from .store import GraphStore, SyncSummary, sync

__all__ = ["CallEdge", "CodeGraph", "Definition", "FileGraph", "GraphStore", "ImportEdge", "SyncSummary", "sync"]
