"""``context:create`` -> ``context:create`` ``{contextId, tokenCount, compressed, metadata, ...}`` (the seed's
``/api/context/create``): store a context for later ``context:stream`` (and the Jupyter extension's
``GET context/{id}``). Two forms:

- ``{content, metadata?: {type?, source?}, maxTokens?}``: uploaded text, refused (nothing stored) once it
  passes ``maxTokens`` (default and ceiling ``[context] max_tokens``, 1,000,000; the seed's
  ``X-Context-Size``);
- ``{request: {query, path?, line?, column?, openFiles?, recentFiles?, budget?, model?, repoMap?}}``: a
  context built from the workspace index to a token budget (``nexus context build``), lines 0-based.

Rate-limited per user by ``gateway.type_limits`` (100 per 15 minutes by default). The store and the
builder are the engine's (``nexus.engine.context``); they block, so they run in worker threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ..protocol import Context, ErrorCode, GatewayError, Handler, Registry, Reply, Request, Role
from ..workspace import WorkspaceHandle

if TYPE_CHECKING:
    from . import Services

TYPE = "context:create"
MIN_ROLE = Role.DEVELOPER
FEATURE = "the context store (nexus.engine context)"
MAX_CONTENT_CHARS = 64 * 1024 * 1024


def context_error(exc: Exception) -> GatewayError:
    """A context error of the caller's making (too large, a bad budget or field) as ``bad_request``."""
    return GatewayError(ErrorCode.BAD_REQUEST, str(exc))


async def create_context(handle: WorkspaceHandle, payload: dict[str, Any], max_tokens: int | None = None) -> Any:
    """Store the context ``payload`` describes; returns the stored context's JSON.

    ``max_tokens`` (the REST ``X-Context-Size``) overrides ``payload.maxTokens``. Raises
    GatewayError(bad_request) for a bad payload or content over the limit.
    """
    from nexus.engine.context import ContextError, ContextRequest, ContextTooLarge, build_context
    from nexus.engine.context.model import BudgetError

    request = Request(TYPE, "create", payload)
    store = await handle.contexts()
    try:
        if "request" in payload:
            if "content" in payload:
                raise request.invalid("give payload.content (an upload) or payload.request (a build), not both")
            wanted = ContextRequest.from_json(payload["request"])
            ws = await handle.get()
            if not await asyncio.to_thread(handle.fresh, ws):
                raise GatewayError(ErrorCode.UNAVAILABLE, f"{handle.root} has no index yet: run `nexus index "
                                   f"{handle.root}`, then build the context again")
            context = await asyncio.to_thread(build_context, ws, wanted)
            info = await asyncio.to_thread(store.put, context)
            return info.to_json()
        content = request.text("content", max_length=MAX_CONTENT_CHARS)
        metadata = payload.get("metadata") or {}
        if not isinstance(metadata, dict) or not all(isinstance(metadata.get(k, ""), str) for k in ("type", "source")):
            raise request.invalid("payload.metadata must be an object with string type and source")
        if max_tokens is None and payload.get("maxTokens") is not None:
            max_tokens = request.integer("maxTokens", minimum=1, maximum=store.settings.max_tokens)
        info = await asyncio.to_thread(store.create_from_content, content, max_tokens,
                                       metadata.get("source") or "user-upload", metadata.get("type") or "document")
        return info.to_json()
    except (ContextTooLarge, BudgetError) as exc:
        raise context_error(exc) from exc
    except ContextError as exc:
        if type(exc) is ContextError:  # a malformed request; ContextCorrupt stays a failure
            raise context_error(exc) from exc
        raise


def make_handler(handle: WorkspaceHandle) -> Handler:
    async def create(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        yield Reply(TYPE, await create_context(handle, dict(request.payload)))

    return create


def register(registry: Registry, services: Services) -> None:
    if services.workspace is None:
        registry.register_unavailable(TYPE, FEATURE, min_role=MIN_ROLE)
        return
    registry.register(TYPE, make_handler(services.workspace), min_role=MIN_ROLE)
