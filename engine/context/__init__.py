"""Contexts for AI features: built from the index to a token budget, stored compressed, streamed.

The front door for other packages::

    from nexus.engine.context import ContextRequest, build_context, store_for

    context = build_context(ws, ContextRequest(query="why does start() fail", path="app/main.py", line=4,
                                               budget=20_000, model="gpt-4o"))
    prompt_text, receipt = context.text(), context.receipt()
    info = store_for(ws).put(context)           # info.to_json(): {"contextId": "ctx-…", "tokenCount": …}
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .builder import build_context
from .model import (
    DEFAULT_BUDGET,
    MAX_BUDGET,
    BudgetError,
    Context,
    ContextCorrupt,
    ContextError,
    ContextNotFound,
    ContextRequest,
    ContextTooLarge,
    Piece,
)
from .settings import ContextSettings
from .store import ContextInfo, ContextStore, StoredPiece
from .tokens import EstimateCounter, TiktokenCounter, TokenCounter, counter_for

if TYPE_CHECKING:
    from ..workspace import Workspace


def settings_for(ws: Workspace) -> ContextSettings:
    return ws.settings.section("context", ContextSettings)


def store_for(ws: Workspace) -> ContextStore:
    """The context store of a workspace: ``[context] store_dir``, else ``contexts/`` by its index."""
    settings = settings_for(ws)
    return ContextStore.open(settings.store_dir or ws.index_dir / "contexts", settings)


__all__ = [
    "DEFAULT_BUDGET", "MAX_BUDGET", "BudgetError", "Context", "ContextCorrupt", "ContextError", "ContextInfo",
    "ContextNotFound", "ContextRequest", "ContextSettings", "ContextStore", "ContextTooLarge", "EstimateCounter",
    "Piece", "StoredPiece", "TiktokenCounter", "TokenCounter", "build_context", "counter_for", "settings_for",
    "store_for",
]
