"""``context:stream`` ``{contextId, chunkSize?}`` -> ``context:chunk``* ``{contextId, index, text}`` then
``context:end`` ``{contextId, chunks, bytes, tokenCount}``: a stored context sent back in pieces.

The store reads and decompresses one block at a time, and each chunk goes through the connection's
bounded outbox, so a million-token context streams in bounded memory and a slow reader pauses the
reading instead of buffering the whole context. ``chunkSize`` is in bytes of UTF-8 (default
``[context] chunk_size``, 64 KiB; 1 KiB to 1 MiB); a chunk never ends inside a character.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from ..protocol import Context, Handler, Registry, Reply, Request, Role
from ..workspace import WorkspaceHandle

if TYPE_CHECKING:
    from . import Services

TYPE = "context:stream"
MIN_ROLE = Role.DEVELOPER
FEATURE = "the context store (nexus.engine context)"


def make_handler(handle: WorkspaceHandle) -> Handler:
    async def stream(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        context_id = request.text("contextId", max_length=128)
        chunk_size = request.integer("chunkSize", default=None, minimum=1024, maximum=1 << 20) \
            if request.payload.get("chunkSize") is not None else None
        store = await handle.contexts()
        info = await asyncio.to_thread(store.get, context_id)  # ContextNotFound: not_found
        count = 0
        async for text in store.stream_text(context_id, chunk_size):
            yield Reply("context:chunk", {"contextId": context_id, "index": count, "text": text})
            count += 1
        yield Reply("context:end", {"contextId": context_id, "chunks": count, "bytes": info.size,
                                    "tokenCount": info.token_count})

    return stream


def register(registry: Registry, services: Services) -> None:
    if services.workspace is None:
        registry.register_unavailable(TYPE, FEATURE, min_role=MIN_ROLE)
        return
    registry.register(TYPE, make_handler(services.workspace), min_role=MIN_ROLE)
