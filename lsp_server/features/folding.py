"""textDocument/foldingRange from the syntax tree: blocks, literals, comment and import runs."""

from __future__ import annotations

from lsprotocol import types

from nexus.engine.outline import folding_ranges

from ..convert import FOLD_KINDS
from ..server import NexusServer


def register(server: NexusServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_FOLDING_RANGE)
    async def folding_range(ls: NexusServer, params: types.FoldingRangeParams) -> list[types.FoldingRange]:
        doc = ls.document(params.text_document.uri)
        folds = await ls.offload(folding_ranges, doc.source)
        lines = doc.lines
        out = []
        for fold in folds:
            start, end = lines.position(fold.start_line, 0).line, lines.position(fold.end_line, 0).line
            if end > start:
                out.append(types.FoldingRange(start_line=start, end_line=end, kind=FOLD_KINDS[fold.kind]))
        return out
