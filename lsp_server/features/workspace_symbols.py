"""workspace/symbol: fuzzy, ranked symbol search over every folder's index."""

from __future__ import annotations

import weakref
from typing import Any

from lsprotocol import types

from nexus.engine.model import Span

from ..convert import LineMap, symbol_kind
from ..server import NexusServer

LIMIT = 50  # a list to pick from as the user types; each keystroke asks again


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
    maps: dict[str, LineMap | _Plain | None] = {}
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


class _Plain:
    """Positions in a file whose lines are ASCII and end at ``\n``: byte columns are already LSP ones."""

    @staticmethod
    def range(span: Span) -> types.Range:
        return types.Range(types.Position(span.start_line, span.start_col),
                           types.Position(span.end_line, span.end_col))


_PLAIN = _Plain()


# Per workspace: (the store's last write, {path: columns}), so a file's lines are looked at once
# between two writes of the index rather than once per query.
_COLUMNS: weakref.WeakKeyDictionary[Any, tuple[int, dict[str, LineMap | _Plain | None]]] = \
    weakref.WeakKeyDictionary()


def _lines(ls: NexusServer, folder, path: str, maps: dict[str, LineMap | _Plain | None]) -> LineMap | _Plain | None:  # type: ignore[no-untyped-def]
    """Column conversion for one indexed file: its open buffer's, else the indexed bytes' (a LineMap
    only when a line has non-ASCII text or a lone ``\r``; most files need none)."""
    key = f"{folder.root}/{path}"
    if key in maps:
        return maps[key]
    doc = ls.documents.get((folder.root / path).as_uri())
    if doc is not None:
        maps[key] = doc.lines
        return maps[key]
    ws = folder.ws
    stamp = ws.store.env.info()["last_txnid"]
    cached = _COLUMNS.get(ws)
    if cached is None or cached[0] != stamp or len(cached[1]) > 5000:
        cached = _COLUMNS[ws] = (stamp, {})
    known = cached[1]
    if path not in known:
        try:
            with ws.store.read() as reader:
                info = reader.file(path)
                content = reader.content(info.file_id) if info is not None else None
        except Exception:  # a file gone since the search: byte columns are kept
            content = None
        if content is None:
            known[path] = None
        elif content.isascii() and content.count(b"\r") == content.count(b"\r\n"):
            known[path] = _PLAIN
        else:
            known[path] = LineMap(content, ls.documents.encoding)
    found = known[path]
    if isinstance(found, LineMap) and found.encoding != ls.documents.encoding:
        found = known[path] = LineMap(found.data, ls.documents.encoding)
    maps[key] = found
    return found
