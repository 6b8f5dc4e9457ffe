"""The Nexus engine: workspace index (tree-sitter -> LMDB + Tantivy), search, and what builds on them.

Knows nothing of LSP, Jupyter or sockets; the adapters call it. Names load lazily, so importing a
light subpackage (``nexus.engine.providers``, ``nexus.engine.config``) does not pull in tree-sitter,
LMDB and Tantivy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "IndexLockedError": "errors", "NexusError": "errors", "NotFoundError": "errors", "WorkspaceError": "errors",
    "IndexSummary": "indexer", "Progress": "indexer",
    "Chunk": "model", "FileInfo": "model", "Import": "model", "Reference": "model", "Skipped": "model",
    "Span": "model", "Symbol": "model", "SymbolHit": "model", "TextHit": "model",
    "IndexStatus": "workspace", "Workspace": "workspace",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from .errors import IndexLockedError as IndexLockedError
    from .errors import NexusError as NexusError
    from .errors import NotFoundError as NotFoundError
    from .errors import WorkspaceError as WorkspaceError
    from .indexer import IndexSummary as IndexSummary
    from .indexer import Progress as Progress
    from .model import Chunk as Chunk
    from .model import FileInfo as FileInfo
    from .model import Import as Import
    from .model import Reference as Reference
    from .model import Skipped as Skipped
    from .model import Span as Span
    from .model import Symbol as Symbol
    from .model import SymbolHit as SymbolHit
    from .model import TextHit as TextHit
    from .workspace import IndexStatus as IndexStatus
    from .workspace import Workspace as Workspace


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'nexus.engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
