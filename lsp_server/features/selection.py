"""textDocument/selectionRange: grow from the word to each enclosing syntax node."""

from __future__ import annotations

from lsprotocol import types

from nexus.engine.outline import selection_ranges

from ..server import NexusServer


def register(server: NexusServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_SELECTION_RANGE)
    async def selection_range(ls: NexusServer, params: types.SelectionRangeParams) -> list[types.SelectionRange]:
        doc = ls.document(params.text_document.uri)
        lines = doc.lines

        def compute() -> list[types.SelectionRange]:
            out = []
            for position in params.positions:
                row, col = lines.row_col(position)
                ranges = selection_ranges(doc.source, row, col)
                parent: types.SelectionRange | None = None
                for start, end in reversed(ranges):
                    parent = types.SelectionRange(lines.range_of_offsets(start, end), parent)
                assert parent is not None
                out.append(parent)
            return out

        return await ls.offload(compute)
