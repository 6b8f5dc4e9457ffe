"""textDocument/references: jedi for Python (within a budget), the scope- and import-aware index
search otherwise or when jedi is late. jedi does not read notebooks, so the index adds the notebooks'
code cells to its answer (their lines are the indexed text's: the code cells joined)."""

from __future__ import annotations

from lsprotocol import types

from nexus.engine.languages import language_for
from nexus.engine.navigation import Navigator

from ..locate import Locator, py_location
from ..server import NexusServer

BUDGET = 3.0


def register(server: NexusServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    async def references(ls: NexusServer, params: types.ReferenceParams) -> list[types.Location]:
        doc = ls.document(params.text_document.uri)
        if not doc.lines.in_range(params.position):
            return []
        row, col = doc.lines.row_col(params.position)
        include = params.context.include_declaration
        folder = ls.folder_of(doc)

        def search(notebooks_only: bool = False) -> list[types.Location]:
            navigator = Navigator(folder.ws if folder else None, doc.source, ls.sources(folder))
            locator = Locator(ls, folder, doc)
            return [locator.location(o.path, o.span) for o in navigator.references(row, col, include)
                    if not notebooks_only or language_for(o.path) == "notebook"]
        if doc.language == "python" and doc.path is not None:
            semantics = ls.semantics(doc)
            if semantics is not None:
                names = await ls.python(semantics.references(str(doc.path), doc.text, row, col), ls.budget("references", BUDGET))
                if names:
                    found = [py_location(ls, doc, n) for n in names
                             if include or not n.description.startswith(("def ", "class "))]
                    found += await ls.offload(search, True)
                    return _sorted([loc for loc in found if loc is not None])

        return _sorted(await ls.offload(search))


def _sorted(locations: list[types.Location]) -> list[types.Location]:
    unique = {(loc.uri, loc.range.start.line, loc.range.start.character): loc for loc in locations}
    return [unique[k] for k in sorted(unique)]
