"""textDocument/hover: jedi's help for Python; elsewhere (or when jedi is late) the definition's
signature and doc comment from the syntax tree and the index."""

from __future__ import annotations

from lsprotocol import types

from nexus.engine.navigation import Navigator

from ..convert import markdown
from ..server import NexusServer
from .last_change import with_last_change

BUDGET = 1.0


def register(server: NexusServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover_with_last_change(ls: NexusServer, params: types.HoverParams) -> types.Hover | None:
        return await with_last_change(ls, params, await hover(ls, params))

    async def hover(ls: NexusServer, params: types.HoverParams) -> types.Hover | None:
        doc = ls.document(params.text_document.uri)
        lines = doc.lines
        if not lines.in_range(params.position):
            return None
        row, col = lines.row_col(params.position)
        word = doc.source.word_at(row, col)
        if word is None:
            return None
        word_range = lines.range_of_offsets(*word)
        if doc.language == "python" and doc.path is not None:
            semantics = ls.semantics(doc)
            if semantics is not None:
                found = await ls.python(semantics.help(str(doc.path), doc.text, row, col), ls.budget("hover", BUDGET))
                if found is not None:
                    _kind, head, docstring = found
                    return types.Hover(markdown(head, docstring, "python"), word_range)
        folder = ls.folder_of(doc)
        targets = await ls.offload(lambda: Navigator(folder.ws if folder else None, doc.source,
                                                     ls.sources(folder)).definitions(row, col))
        if not targets:
            return None
        target = targets[0]
        if target.symbol is not None:
            symbol = target.symbol
            head = symbol.signature or symbol.name
            where = f"*{symbol.kind}*" + (f" in `{symbol.container}`" if symbol.container else "") + \
                (f" · {target.path}" if target.path != doc.rel else "")
            body = "\n\n".join(p for p in (where, symbol.doc) if p)
            return types.Hover(markdown(head, body, doc.language), word_range)
        return types.Hover(markdown(target.line_text, "", doc.language), word_range)
