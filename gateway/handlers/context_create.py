"""``context:create`` -> ``context:create`` ``{contextId, tokenCount, compressed, metadata, ...}`` (the seed's
``/api/context/create``): store a context in the workspace's context store (``nexus.engine.context``) for
later ``context:stream`` or ``ai:chat`` ``{contextId}``.

Two payloads:

- ``{content, metadata?: {type?, source?}, maxTokens?}``: store uploaded text. ``maxTokens`` is the seed's
  ``X-Context-Size`` (default and maximum: the store's ``max_tokens``, 1,000,000); text past it is
  refused (``bad_request``) and nothing is stored.
- ``{build: {query?, path?, line?, column?, openFiles?, budget?, model?, repoMap?}}``: build a context
  from the workspace index (lines are zero-based, as in ``nexus context build --json``); the reply
  adds its ``receipt``.

Rate-limited per user by ``gateway.type_limits`` (100 per 15 minutes by default). The work runs in a
worker thread (LMDB, zstd, tokenizing).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from ..protocol import Context, ErrorCode, GatewayError, Handler, Registry, Reply, Request, Role
from ..workspace import WorkspaceHandle

if TYPE_CHECKING:
    from nexus.engine import Workspace

    from . import Services

TYPE = "context:create"
MIN_ROLE = Role.DEVELOPER
FEATURE = "the context store (nexus.engine context)"
NAME_LENGTH = 64


def _metadata(request: Request) -> tuple[str, str]:
    meta = request.payload.get("metadata") or {}
    if not isinstance(meta, Mapping):
        raise request.invalid("payload.metadata must be an object {type?, source?}")
    values = []
    for key, default in (("type", "document"), ("source", "user-upload")):
        value = meta.get(key, default)
        if not isinstance(value, str) or not value or len(value) > NAME_LENGTH:
            raise request.invalid(f"payload.metadata.{key} must be a string of 1 to {NAME_LENGTH} characters")
        values.append(value)
    return values[0], values[1]


def make_handler(handle: WorkspaceHandle) -> Handler:
    async def create(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        from nexus.engine.context import ContextError, ContextRequest, build_context, store_for

        build = request.payload.get("build")
        content = request.payload.get("content")
        if (build is None) == (content is None):
            raise request.invalid("give either payload.content (text to store) or payload.build (a context "
                                  "request: {query, path, line, budget, ...})")
        ws = await handle.get()

        def run(ws: Workspace) -> dict[str, Any]:
            store = store_for(ws)
            if content is not None:
                if not isinstance(content, str):
                    raise request.invalid("payload.content must be a string")
                type_, source = _metadata(request)
                limit = request.integer("maxTokens", default=store.settings.max_tokens, minimum=1,
                                        maximum=store.settings.max_tokens)
                return store.create_from_content(content.encode("utf-8", "surrogatepass"), limit, source,
                                                 type_).to_json()
            wanted = ContextRequest.from_json(build)
            if not handle.fresh(ws):
                raise GatewayError(ErrorCode.UNAVAILABLE, f"{handle.root} has no index yet: run `nexus index "
                                   f"{handle.root}`, then build the context again")
            context = build_context(ws, wanted)
            return {**store.put(context, source="gateway").to_json(), "receipt": context.receipt()}

        try:
            info = await asyncio.to_thread(run, ws)
        except ContextError as exc:
            raise request.invalid(str(exc)) from exc
        yield Reply(TYPE, info)

    return create


def register(registry: Registry, services: Services) -> None:
    if services.workspace is None:
        registry.register_unavailable(TYPE, FEATURE, min_role=MIN_ROLE)
        return
    registry.register(TYPE, make_handler(services.workspace), min_role=MIN_ROLE)
