"""``context.*``: stored contexts (up to 1M tokens) for later streaming, paging and chat.

- ``context.create``: ``{content, metadata?: {type?, source?}, maxTokens?}`` stores uploaded text, refused
  (nothing stored) past ``maxTokens`` (default and ceiling ``[context] max_tokens``); ``{request: {query,
  path?, line?, column?, openFiles?, recentFiles?, budget?, model?, repoMap?}}`` builds one from the index
  to a token budget (``nexus context build``), lines 0-based.
- ``context.get``: the metadata, optionally a page of pieces with their text, or the whole text.
- ``context.stream``: the text in chunks of ``chunkSize`` bytes of UTF-8 (never inside a character), read
  one block at a time so a million-token context streams in bounded memory.
- ``context.merge``: pieces of two or more contexts, each once, cut to a budget, as a new context.
- ``context.delete``.

The store and the builder block (LMDB, zstd), so they run in worker threads.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Annotated, Any

from pydantic import Field

from ..call import Call
from ..codec import WIRE, Bool, Int, Name, Text
from ..errors import ErrorCode, OperationError, unavailable_no_index
from ..identity import Role
from ..operation import Event, operation
from ..permission import Permission

MAX_CONTENT_CHARS = 64 * 1024 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class ContextMetadata:
    __pydantic_config__ = WIRE
    type: Annotated[Text, Field(max_length=128)] = ""
    source: Annotated[Text, Field(max_length=4096)] = ""


@dataclasses.dataclass(frozen=True, slots=True)
class CreateParams:
    __pydantic_config__ = WIRE
    content: Annotated[Text, Field(min_length=1, max_length=MAX_CONTENT_CHARS)] | None = None
    metadata: ContextMetadata | None = None
    max_tokens: Annotated[Int, Field(ge=1)] | None = None
    request: dict[str, Any] | None = None  # a build request (see the module's docstring)


@operation("context.create", params=CreateParams, result=dict[str, Any], role=Role.DEVELOPER, rate="context",
           message="context:create", permission=Permission.EDIT)
async def create(call: Call, p: CreateParams) -> dict[str, Any]:
    """Store uploaded text, or a context built from the index to a budget; returns its id and metadata."""
    from nexus.engine.context import ContextError, ContextRequest, ContextTooLarge, build_context
    from nexus.engine.context.model import BudgetError

    handle = call.backends.workspace
    store = await handle.contexts()
    if (p.request is None) == (p.content is None):
        raise OperationError(ErrorCode.BAD_REQUEST, "context:create: give either payload.content (an upload) or "
                             "payload.request (a build)")
    try:
        if p.request is not None:
            wanted = ContextRequest.from_json(p.request)
            ws = await handle.get()
            if not await asyncio.to_thread(handle.fresh, ws):
                raise unavailable_no_index(handle.root)
            context = await asyncio.to_thread(build_context, ws, wanted)
            info = await asyncio.to_thread(store.put, context)
        else:
            if p.max_tokens is not None and p.max_tokens > store.settings.max_tokens:
                raise OperationError(ErrorCode.BAD_REQUEST, f"context:create: payload.maxTokens must be at most "
                                     f"{store.settings.max_tokens}")
            metadata = p.metadata or ContextMetadata()
            info = await asyncio.to_thread(store.create_from_content, p.content or "", p.max_tokens,
                                           metadata.source or "user-upload", metadata.type or "document")
    except (ContextTooLarge, BudgetError) as exc:
        raise OperationError(ErrorCode.BAD_REQUEST, str(exc)) from exc
    except ContextError as exc:
        if type(exc) is ContextError:  # a malformed request; ContextCorrupt stays a failure
            raise OperationError(ErrorCode.BAD_REQUEST, str(exc)) from exc
        raise
    data: dict[str, Any] = info.to_json()
    return data


@dataclasses.dataclass(frozen=True, slots=True)
class GetParams:
    __pydantic_config__ = WIRE
    context_id: Name
    page: Annotated[Int, Field(ge=0)] | None = None
    page_size: Annotated[Int, Field(ge=1, le=1000)] = 50
    text: Bool = False  # the whole text (for contexts small enough to want that)


@operation("context.get", params=GetParams, result=dict[str, Any], role=Role.VIEWER, rate="read",
           message="context:get")
async def get(call: Call, p: GetParams) -> dict[str, Any]:
    """A stored context's metadata, a page of its pieces with their text, or its whole text."""
    store = await call.backends.workspace.contexts()
    info = await asyncio.to_thread(store.get, p.context_id)
    body: dict[str, Any] = info.to_json()
    if p.page is not None:
        body["page"] = await asyncio.to_thread(store.page, p.context_id, p.page, p.page_size)
    if p.text:
        body["text"] = await asyncio.to_thread(store.text, p.context_id)
    return body


@dataclasses.dataclass(frozen=True, slots=True)
class StreamParams:
    __pydantic_config__ = WIRE
    context_id: Name
    chunk_size: Annotated[Int, Field(ge=1024, le=1 << 20)] | None = None  # bytes; [context] chunk_size


@dataclasses.dataclass(frozen=True, slots=True)
class Chunk:
    __pydantic_config__ = WIRE
    context_id: str
    index: int
    text: str


@dataclasses.dataclass(frozen=True, slots=True)
class StreamEnd:
    __pydantic_config__ = WIRE
    context_id: str
    chunks: int
    bytes: int
    token_count: int


@operation("context.stream", params=StreamParams, result=StreamEnd, role=Role.DEVELOPER, rate="context",
           message="context:stream", result_message="context:end", events=(("context:chunk", Chunk),),
           permission=Permission.READ)
async def stream(call: Call, p: StreamParams) -> AsyncIterator[Event | StreamEnd]:
    """A stored context's text in chunks, in bounded memory."""
    store = await call.backends.workspace.contexts()
    info = await asyncio.to_thread(store.get, p.context_id)  # ContextNotFound: not_found
    count = 0
    async for text in store.stream_text(p.context_id, p.chunk_size):
        yield Event("context:chunk", Chunk(p.context_id, count, text))
        count += 1
    yield StreamEnd(p.context_id, count, info.size, info.token_count)


@dataclasses.dataclass(frozen=True, slots=True)
class MergeParams:
    __pydantic_config__ = WIRE
    context_ids: Annotated[tuple[Name, ...], Field(min_length=2, max_length=64)]
    budget: Annotated[Int, Field(ge=1)]


@operation("context.merge", params=MergeParams, result=dict[str, Any], role=Role.DEVELOPER, rate="context",
           message="context:merge", permission=Permission.EDIT)
async def merge(call: Call, p: MergeParams) -> dict[str, Any]:
    """A new context of the pieces of two or more contexts, each once, cut to ``budget`` tokens."""
    from nexus.engine.context import ContextError
    from nexus.engine.context.model import BudgetError

    store = await call.backends.workspace.contexts()
    try:
        info = await asyncio.to_thread(store.merge, list(p.context_ids), p.budget)
    except BudgetError as exc:
        raise OperationError(ErrorCode.BAD_REQUEST, str(exc)) from exc
    except ContextError as exc:
        if type(exc) is ContextError:
            raise OperationError(ErrorCode.BAD_REQUEST, str(exc)) from exc
        raise
    data: dict[str, Any] = info.to_json()
    return data


@dataclasses.dataclass(frozen=True, slots=True)
class DeleteParams:
    __pydantic_config__ = WIRE
    context_id: Name


@dataclasses.dataclass(frozen=True, slots=True)
class Deleted:
    __pydantic_config__ = WIRE
    context_id: str
    deleted: bool


@operation("context.delete", params=DeleteParams, result=Deleted, role=Role.DEVELOPER, rate="context",
           message="context:delete", permission=Permission.EDIT)
async def delete(call: Call, p: DeleteParams) -> Deleted:
    """Delete a stored context (``not_found`` when there is none)."""
    store = await call.backends.workspace.contexts()
    await asyncio.to_thread(store.delete, p.context_id)
    return Deleted(p.context_id, True)
