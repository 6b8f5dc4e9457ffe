"""workspace/symbol: fuzzy, ranked symbol search over every folder's index."""

from __future__ import annotations

from lsprotocol import types

from nexus.engine.model import Span

from ..convert import LineMap, symbol_kind
from ..server import NexusServer

LIMIT = 100


def register(server: NexusServer) -> None:
    @server.feature(types.WORKSPACE_SYMBOL)
    async def workspace_symbol(ls: NexusServer, params: types.WorkspaceSymbolParams) -> list[types.WorkspaceSymbol]:
        return await ls.offload(search, ls, params.query)


def search(ls: NexusServer, query: str) -> list[types.WorkspaceSymbol]:
    found = []
    for folder in ls.folders:
        if folder.ws is None:
            continue
        for hit in folder.ws.search_symbols(query, limit=LIMIT):
            found.append((hit.score, folder, hit))
    found.sort(key=lambda item: -item[0])
    maps: dict[str, LineMap | None] = {}
    out = []
    for _score, folder, hit in found[:LIMIT]:
        absolute = folder.root / hit.path
        lines = _lines(ls, folder, hit.path, maps)
        end = hit.col + len(hit.name.encode("utf-8"))
        span = Span(hit.line, hit.col, hit.line, end)
        rng = lines.range(span) if lines is not None else types.Range(
            types.Position(hit.line, hit.col), types.Position(hit.line, end))
        out.append(types.WorkspaceSymbol(
            name=hit.name, kind=symbol_kind(hit.kind), container_name=hit.container or None,
            location=types.Location(absolute.as_uri(), rng)))
    return out


def _lines(ls: NexusServer, folder, path: str, maps: dict[str, LineMap | None]) -> LineMap | None:  # type: ignore[no-untyped-def]
    key = f"{folder.root}/{path}"
    if key not in maps:
        doc = ls.documents.get((folder.root / path).as_uri())
        if doc is not None:
            maps[key] = doc.lines
        else:
            try:
                maps[key] = LineMap(folder.ws.text(path).encode("utf-8", "surrogatepass"), ls.documents.encoding)
            except Exception:
                maps[key] = None
    return maps[key]
