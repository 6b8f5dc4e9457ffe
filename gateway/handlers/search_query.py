"""``search:query`` ``{query, mode?, limit?, languages?}`` -> ``search:query`` ``{hits}``: the workspace
index of ``--root`` searched through the engine (viewers may search).

``mode`` is ``"text"`` (ranked code chunks, the default) or ``"symbols"`` (fuzzy symbol names); hits have
the shapes of ``nexus search --json`` (1-based lines). The index is built by ``nexus index`` or the
language server; a workspace never indexed answers ``unavailable`` saying so. Queries block (LMDB,
Tantivy), so they run in a worker thread.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ..protocol import Context, ErrorCode, GatewayError, Handler, Registry, Reply, Request, Role
from ..workspace import WorkspaceHandle

if TYPE_CHECKING:
    from nexus.engine import SymbolHit, TextHit, Workspace

    from . import Services

TYPE = "search:query"
MIN_ROLE = Role.VIEWER
FEATURE = "workspace search (the nexus.engine index)"
MODES = ("text", "symbols")
MAX_LIMIT = 200


def _text_json(hit: TextHit) -> dict[str, Any]:
    return {"path": hit.path, "line": hit.line + 1, "endLine": hit.end_line + 1, "symbol": hit.symbol,
            "language": hit.language, "score": hit.score, "preview": hit.preview}


def _symbol_json(hit: SymbolHit) -> dict[str, Any]:
    return {"path": hit.path, "line": hit.line + 1, "column": hit.col + 1, "name": hit.name, "kind": hit.kind,
            "container": hit.container, "signature": hit.signature, "language": hit.language, "score": hit.score}


def make_handler(handle: WorkspaceHandle) -> Handler:
    async def search(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        query = request.text("query", max_length=1000)
        mode = request.text("mode", default="text", max_length=16)
        if mode not in MODES:
            raise request.invalid(f"payload.mode must be one of {', '.join(MODES)}")
        limit = request.integer("limit", default=20, minimum=1, maximum=MAX_LIMIT)
        languages = request.payload.get("languages", [])
        if not isinstance(languages, list) or len(languages) > 10 or not all(
                isinstance(x, str) and 0 < len(x) <= 32 for x in languages):
            raise request.invalid("payload.languages must be a list of language names (python, ts, ...)")
        from nexus.engine.languages import expand_language

        for language in languages:
            try:
                expand_language(language)
            except ValueError as exc:
                raise request.invalid(f"payload.languages: {exc}") from None
        ws = await handle.get()

        def run(ws: Workspace) -> list[dict[str, Any]] | None:
            if not handle.fresh(ws):
                return None
            if mode == "symbols":
                return [_symbol_json(h) for h in ws.search_symbols(query, limit, tuple(languages))]
            return [_text_json(h) for h in ws.search_text(query, limit, tuple(languages))]

        hits = await asyncio.to_thread(run, ws)
        if hits is None:
            raise GatewayError(ErrorCode.UNAVAILABLE, f"{handle.root} has no index yet: run `nexus index "
                               f"{handle.root}` (or open it with the language server), then search again")
        yield Reply(TYPE, {"hits": hits})

    return search


def register(registry: Registry, services: Services) -> None:
    if services.workspace is None or importlib.util.find_spec("nexus.engine.workspace") is None:
        registry.register_unavailable(TYPE, FEATURE, min_role=MIN_ROLE)
        return
    registry.register(TYPE, make_handler(services.workspace), min_role=MIN_ROLE)
