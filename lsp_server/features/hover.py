"""textDocument/hover, through the semantic seam (jedi's help for Python; elsewhere, or when the backend
has nothing, the definition's signature and doc comment from the syntax tree and the index)."""

from __future__ import annotations

from lsprotocol import types

from ..server import NexusServer
from .last_change import with_last_change


def register(server: NexusServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover_with_last_change(ls: NexusServer, params: types.HoverParams) -> types.Hover | None:
        return await with_last_change(ls, params, await hover(ls, params))

    async def hover(ls: NexusServer, params: types.HoverParams) -> types.Hover | None:
        q = ls.query(ls.document(params.text_document.uri), params.position)
        if q is None or q.doc.source.word_at(q.row, q.col) is None:
            return None
        outcome = await ls.ask("hover", q)
        return outcome.value if isinstance(outcome.value, types.Hover) else None
