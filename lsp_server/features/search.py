"""``nexus/search``: text, symbol or file search over every folder, for the editor clients.

Params ``{query, mode: "text"|"symbols"|"files", limit?, languages?}``; result: a list of
``{uri, range, name?, kind?, preview?, score}``, best first.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from nexus.engine.errors import NexusError
from nexus.engine.model import Span
from nexus.engine.search.names import fuzzy_score

from ..server import NexusServer
from .workspace_symbols import _lines

METHOD = "nexus/search"
MODES = ("text", "symbols", "files")


def register(server: NexusServer) -> None:
    @server.feature(METHOD)
    async def nexus_search(ls: NexusServer, params: Any) -> list[dict[str, Any]]:
        args = _params(params)
        query = args.get("query")
        mode = args.get("mode", "text")
        limit = args.get("limit", 50)
        languages = args.get("languages") or []
        if not isinstance(query, str) or mode not in MODES or not isinstance(limit, int) or limit < 1 \
                or not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
            raise JsonRpcInvalidParams(message="nexus/search expects {query: string, mode: 'text'|'symbols'|"
                                               "'files', limit?: positive integer, languages?: string[]}")
        try:
            return await ls.offload(search, ls, query, mode, min(limit, 1000), tuple(languages))
        except NexusError as exc:
            raise JsonRpcInvalidParams(message=str(exc)) from exc


def _params(params: Any) -> dict[str, Any]:
    if isinstance(params, dict):
        return params
    if params is None:
        return {}
    return {k: getattr(params, k) for k in ("query", "mode", "limit", "languages") if hasattr(params, k)}


def search(ls: NexusServer, query: str, mode: str, limit: int, languages: tuple[str, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    maps: dict = {}  # type: ignore[type-arg]
    for folder in ls.folders:
        ws = folder.ws
        if ws is None:
            continue
        if mode == "symbols":
            for hit in ws.search_symbols(query, limit=limit, languages=languages):
                lines = _lines(ls, folder, hit.path, maps)
                span = Span(hit.line, hit.col, hit.line, hit.col + len(hit.name.encode("utf-8")))
                out.append({"uri": (folder.root / hit.path).as_uri(), "range": _range(lines, span),
                            "name": hit.name, "kind": hit.kind, "container": hit.container,
                            "preview": hit.signature, "score": hit.score})
        elif mode == "text":
            for hit in ws.search_text(query, limit=limit, languages=languages):
                lines = _lines(ls, folder, hit.path, maps)
                out.append({"uri": (folder.root / hit.path).as_uri(),
                            "range": _range(lines, Span(hit.line, 0, hit.end_line + 1, 0)),
                            "name": hit.symbol or None, "preview": hit.preview, "score": hit.score})
        else:
            for info in ws.files():
                if languages and info.language not in languages:
                    continue
                score = fuzzy_score(query, info.path) if query else 1.0
                if score > 0:
                    zero = types.Range(types.Position(0, 0), types.Position(0, 0))
                    out.append({"uri": (folder.root / info.path).as_uri(), "range": _json_range(zero),
                                "name": info.path, "kind": "file", "score": round(score, 3)})
    out.sort(key=lambda item: -item["score"])
    return out[:limit]


def _range(lines, span: Span) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    if lines is None:
        rng = types.Range(types.Position(span.start_line, span.start_col), types.Position(span.end_line, span.end_col))
    else:
        rng = lines.range(span)
    return _json_range(rng)


def _json_range(rng: types.Range) -> dict[str, Any]:
    return {"start": {"line": rng.start.line, "character": rng.start.character},
            "end": {"line": rng.end.line, "character": rng.end.character}}
