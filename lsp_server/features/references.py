"""textDocument/references, through the semantic seam (the backend's project search; the scope- and
import-aware index search for other languages, on failure or past the limit)."""

from __future__ import annotations

from lsprotocol import types

from ..server import NexusServer


def register(server: NexusServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    async def references(ls: NexusServer, params: types.ReferenceParams) -> list[types.Location]:
        q = ls.query(ls.document(params.text_document.uri), params.position, params.context.include_declaration)
        if q is None:
            return []
        outcome = await ls.ask("references", q)
        return sorted_locations(outcome.value or [])


def sorted_locations(locations: list[types.Location]) -> list[types.Location]:
    unique = {(loc.uri, loc.range.start.line, loc.range.start.character): loc for loc in locations}
    return [unique[k] for k in sorted(unique)]
