"""The Nexus engine: workspace index (tree-sitter -> LMDB + Tantivy), search, and what builds on them.

Knows nothing of LSP, Jupyter or sockets; the adapters call it.
"""

from .errors import IndexLockedError, NexusError, NotFoundError, WorkspaceError
from .indexer import IndexSummary, Progress
from .model import Chunk, FileInfo, Import, Reference, Skipped, Span, Symbol, SymbolHit, TextHit
from .workspace import IndexStatus, Workspace

__all__ = [
    "Chunk", "FileInfo", "Import", "IndexLockedError", "IndexStatus", "IndexSummary", "NexusError",
    "NotFoundError", "Progress", "Reference", "Skipped", "Span", "Symbol", "SymbolHit", "TextHit",
    "Workspace", "WorkspaceError",
]
