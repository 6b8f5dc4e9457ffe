"""textDocument/documentHighlight: the occurrences of the name under the cursor in this file."""

from __future__ import annotations

from lsprotocol import types

from nexus.engine.model import Span
from nexus.engine.navigation import Navigator

from ..server import NexusServer

BUDGET = 0.3


def register(server: NexusServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_HIGHLIGHT)
    async def document_highlight(ls: NexusServer, params: types.DocumentHighlightParams) -> list[types.DocumentHighlight]:
        doc = ls.document(params.text_document.uri)
        lines = doc.lines
        if not lines.in_range(params.position):
            return []
        row, col = lines.row_col(params.position)
        if doc.language == "python" and doc.path is not None:
            semantics = ls.semantics(doc)
            if semantics is not None:
                names = await ls.python(semantics.references(str(doc.path), doc.text, row, col, file_only=True), ls.budget("highlight", BUDGET))
                if names:
                    return [types.DocumentHighlight(
                        lines.range(Span(n.line, n.col, n.line, n.end_col)),
                        types.DocumentHighlightKind.Write if n.description.startswith(("def ", "class "))
                        else types.DocumentHighlightKind.Read)
                        for n in names if n.path == str(doc.path)]
        folder = ls.folder_of(doc)
        found = await ls.offload(lambda: Navigator(folder.ws if folder else None, doc.source).highlights(row, col))
        return [types.DocumentHighlight(lines.range(o.span), types.DocumentHighlightKind.Write if o.is_definition
                                        else types.DocumentHighlightKind.Read) for o in found]
