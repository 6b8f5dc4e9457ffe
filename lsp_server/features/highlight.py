"""textDocument/documentHighlight: the occurrences of the name under the cursor in this file, through
the semantic seam."""

from __future__ import annotations

from lsprotocol import types

from ..server import NexusServer


def register(server: NexusServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_HIGHLIGHT)
    async def document_highlight(ls: NexusServer, params: types.DocumentHighlightParams) -> list[types.DocumentHighlight]:
        q = ls.query(ls.document(params.text_document.uri), params.position)
        if q is None:
            return []
        outcome = await ls.ask("highlight", q)
        return list(outcome.value or [])
