"""textDocument/definition, declaration and typeDefinition.

Python: jedi (definition follows imports, declaration stops at them, type definition infers), within
a budget, with the scope- and import-aware index search as the fallback. Other languages: the index
search (``engine.navigation``).
"""

from __future__ import annotations

from lsprotocol import types

from nexus.engine.navigation import Navigator

from ..locate import Locator, py_location
from ..server import NexusServer

BUDGET = 0.08


def register(server: NexusServer) -> None:
    async def locate(ls: NexusServer, params: types.TextDocumentPositionParams, mode: str) -> list[types.Location]:
        doc = ls.document(params.text_document.uri)
        if not doc.lines.in_range(params.position):
            return []
        row, col = doc.lines.row_col(params.position)
        if doc.language == "python" and doc.path is not None:
            semantics = ls.semantics(doc)
            if semantics is not None:
                names = await ls.python(semantics.goto(str(doc.path), doc.text, row, col, mode), ls.budget("definition", BUDGET))
                found = [loc for loc in (py_location(ls, doc, n) for n in names or ()) if loc is not None]
                if found or mode == "type":
                    return found
        if mode == "type":
            return []
        folder = ls.folder_of(doc)

        def search() -> list[types.Location]:
            navigator = Navigator(folder.ws if folder else None, doc.source, ls.sources(folder))
            locator = Locator(ls, folder, doc)
            return [locator.location(t.path, t.span) for t in navigator.definitions(row, col)]

        return await ls.offload(search)

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def definition(ls: NexusServer, params: types.DefinitionParams) -> list[types.Location]:
        return await locate(ls, params, "definition")

    @server.feature(types.TEXT_DOCUMENT_DECLARATION)
    async def declaration(ls: NexusServer, params: types.DeclarationParams) -> list[types.Location]:
        return await locate(ls, params, "declaration")

    @server.feature(types.TEXT_DOCUMENT_TYPE_DEFINITION)
    async def type_definition(ls: NexusServer, params: types.TypeDefinitionParams) -> list[types.Location]:
        return await locate(ls, params, "type")
