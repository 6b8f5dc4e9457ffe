"""textDocument/references, through the semantic seam (the backend's project search; the scope- and
import-aware index search for other languages, on failure or past the limit). jedi does not read
notebooks, so for Python the index adds the notebooks' code cells to the answer (their lines are the
indexed text's: the code cells joined)."""

from __future__ import annotations

from lsprotocol import types

from nexus.engine.languages import language_for
from nexus.engine.navigation import Navigator

from ..locate import Locator
from ..server import NexusServer


def register(server: NexusServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    async def references(ls: NexusServer, params: types.ReferenceParams) -> list[types.Location]:
        doc = ls.document(params.text_document.uri)
        q = ls.query(doc, params.position, params.context.include_declaration)
        if q is None:
            return []
        outcome = await ls.ask("references", q)
        found = list(outcome.value or [])
        if doc.language == "python":
            found += await ls.offload(_notebook_references, ls, doc, params)
        return sorted_locations(found)


def _notebook_references(ls: NexusServer, doc: object, params: types.ReferenceParams) -> list[types.Location]:
    folder = ls.folder_of(doc)  # type: ignore[arg-type]
    row, col = doc.lines.row_col(params.position)  # type: ignore[attr-defined]
    navigator = Navigator(folder.ws if folder else None, doc.source, ls.sources(folder))  # type: ignore[attr-defined]
    locator = Locator(ls, folder, doc)  # type: ignore[arg-type]
    return [locator.location(o.path, o.span)
            for o in navigator.references(row, col, params.context.include_declaration)
            if language_for(o.path) == "notebook"]


def sorted_locations(locations: list[types.Location]) -> list[types.Location]:
    unique = {(loc.uri, loc.range.start.line, loc.range.start.character): loc for loc in locations}
    return [unique[k] for k in sorted(unique)]
