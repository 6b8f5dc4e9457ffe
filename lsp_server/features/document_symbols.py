"""textDocument/documentSymbol: the hierarchical outline of the live buffer, any language."""

from __future__ import annotations

from lsprotocol import types

from nexus.engine.outline import OutlineItem, outline

from ..convert import LineMap, symbol_kind
from ..server import NexusServer


def register(server: NexusServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def document_symbol(ls: NexusServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
        doc = ls.document(params.text_document.uri)
        items = await ls.offload(outline, doc.source)
        lines = doc.lines
        return [_convert(lines, item) for item in items]


def _convert(lines: LineMap, item: OutlineItem) -> types.DocumentSymbol:
    symbol = item.symbol
    return types.DocumentSymbol(
        name=symbol.name, kind=symbol_kind(symbol.kind), range=lines.range(symbol.span),
        selection_range=lines.range(symbol.name_span), detail=symbol.signature or None,
        children=[_convert(lines, child) for child in item.children])
