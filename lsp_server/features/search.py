"""``nexus/search``: the ``search`` operation over every folder, for the editor clients.

Params ``{query, mode: "text"|"symbols"|"files", limit?, languages?}``; result: a list of
``{uri, range, name?, kind?, preview?, score}``, best first.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from nexus.engine.model import Span
from nexus.services import Call, ErrorCode, OperationError, Registry

from ..server import NexusServer
from .workspace_symbols import _lines

METHOD = "nexus/search"
OPERATIONS = Registry.default()


def register(server: NexusServer) -> None:
    @server.feature(METHOD)
    async def nexus_search(ls: NexusServer, params: Any) -> list[dict[str, Any]]:
        args = _params(params)
        out: list[dict[str, Any]] = []
        for folder in ls.folders:
            backends = folder.backends()
            if backends is None:
                continue
            try:
                found = await OPERATIONS.result("search", args, Call(backends))
            except OperationError as exc:
                if exc.code is ErrorCode.UNAVAILABLE:  # this folder's index is still being built
                    continue
                raise JsonRpcInvalidParams(message=f"nexus/search expects {{query: string, mode: 'text'|'symbols'|"
                                                   f"'files', limit?, languages?}}: {exc.message}") from exc
            out += await ls.offload(_lsp_hits, ls, folder, args.get("mode", "text"), found["hits"])
        out.sort(key=lambda item: -item["score"])
        return out[:int(args.get("limit", 50))]


def _params(params: Any) -> dict[str, Any]:
    if isinstance(params, dict):
        found = dict(params)
    elif params is None:
        found = {}
    else:
        found = {k: getattr(params, k) for k in ("query", "mode", "limit", "languages") if hasattr(params, k)}
    found.setdefault("limit", 50)
    return found


def _lsp_hits(ls: NexusServer, folder: Any, mode: str, hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The operation's hits (1-based lines, byte columns) as LSP locations in the client's encoding."""
    out: list[dict[str, Any]] = []
    maps: dict = {}  # type: ignore[type-arg]
    for hit in hits:
        uri = (folder.root / hit["path"]).as_uri()
        line = hit["line"] - 1
        if mode == "symbols":
            column = hit["column"] - 1
            span = Span(line, column, line, column + len(hit["name"].encode("utf-8")))
            out.append({"uri": uri, "range": _range(_lines(ls, folder, hit["path"], maps), span), "name": hit["name"],
                        "kind": hit["kind"], "container": hit["container"], "preview": hit["signature"],
                        "score": hit["score"]})
        elif mode == "text":
            span = Span(line, 0, hit["endLine"], 0)
            out.append({"uri": uri, "range": _range(_lines(ls, folder, hit["path"], maps), span),
                        "name": hit["symbol"] or None, "preview": hit["preview"], "score": hit["score"]})
        else:
            zero = types.Range(types.Position(line, 0), types.Position(line, 0))
            out.append({"uri": uri, "range": _json_range(zero), "name": hit["path"], "kind": "file",
                        "score": hit["score"]})
    return out


def _range(lines, span: Span) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    if lines is None:
        rng = types.Range(types.Position(span.start_line, span.start_col), types.Position(span.end_line, span.end_col))
    else:
        rng = lines.range(span)
    return _json_range(rng)


def _json_range(rng: types.Range) -> dict[str, Any]:
    return {"start": {"line": rng.start.line, "character": rng.start.character},
            "end": {"line": rng.end.line, "character": rng.end.character}}
