"""``context:stream`` ``{contextId, chunkSize?}`` -> ``context:chunk``* (data: the next piece of the text, a
string) then ``context:end`` ``{contextId, chunks, bytes, tokenCount}`` (the seed's shape): a stored
context (``context:create``, ``nexus context``) sent back in pieces.

The store reads and decompresses one block at a time, and each chunk goes through the connection's
bounded outbox, so a slow reader pauses the stream instead of buffering the whole context; memory
stays bounded whatever the context's size. Unknown or expired ids answer ``not_found``; a damaged
context fails after the chunks read so far.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from ..protocol import Context, Handler, Registry, Reply, Request, Role
from ..workspace import WorkspaceHandle

if TYPE_CHECKING:
    from . import Services

TYPE = "context:stream"
MIN_ROLE = Role.DEVELOPER
FEATURE = "the context store (nexus.engine context)"
MAX_CHUNK = 1 << 20


def make_handler(handle: WorkspaceHandle) -> Handler:
    async def stream(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        import asyncio

        from nexus.engine.context import store_for

        context_id = request.text("contextId", max_length=64)
        chunk_size = request.integer("chunkSize", default=64 * 1024, minimum=1024, maximum=MAX_CHUNK)
        ws = await handle.get()
        store = await asyncio.to_thread(store_for, ws)
        info = await asyncio.to_thread(store.get, context_id)
        chunks = 0
        async for text in store.stream_text(context_id, chunk_size):
            chunks += 1
            yield Reply("context:chunk", text)
        yield Reply("context:end", {"contextId": context_id, "chunks": chunks, "bytes": info.size,
                                    "tokenCount": info.token_count})

    return stream


def register(registry: Registry, services: Services) -> None:
    if services.workspace is None:
        registry.register_unavailable(TYPE, FEATURE, min_role=MIN_ROLE)
        return
    registry.register(TYPE, make_handler(services.workspace), min_role=MIN_ROLE)
