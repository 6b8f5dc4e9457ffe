"""Resources: the workspace's indexed files (``file://`` URIs) and its stored contexts
(``nexus://context/<id>``).

Reading goes through the operations (``files.read``, ``context.get``), so a resource URI pointing out of
the workspace is refused by the same path rules as every other face. Files are listed from the index
(a workspace never indexed lists only its contexts), a page of :data:`PAGE` at a time.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import mcp_types as types
from mcp.shared.exceptions import MCPError

from nexus.services import OperationError

if TYPE_CHECKING:
    from .server import NexusMcp

log = logging.getLogger(__name__)

PAGE = 500
CONTEXT = "nexus://context/"
RESOURCE_NOT_FOUND = -32002  # the specification's code for an unknown resource


async def list_resources(mcp: NexusMcp, params: types.PaginatedRequestParams | None) -> types.ListResourcesResult:
    start = _cursor(params.cursor if params is not None else None)
    entries = await _contexts(mcp) + await _files(mcp)
    page = entries[start:start + PAGE]
    more = start + PAGE < len(entries)
    return types.ListResourcesResult(resources=page, next_cursor=str(start + PAGE) if more else None)


def list_templates() -> types.ListResourceTemplatesResult:
    return types.ListResourceTemplatesResult(resource_templates=[
        types.ResourceTemplate(name="context", title="Stored context", uri_template=CONTEXT + "{contextId}",
                               description="A context stored with context.create (its whole text)",
                               mime_type="text/plain"),
        types.ResourceTemplate(name="file", title="Workspace file", uri_template="file://{+path}",
                               description="A text file inside the workspace (absolute path)"),
    ])


async def read_resource(mcp: NexusMcp, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
    uri = str(params.uri)
    try:
        if uri.startswith(CONTEXT):
            context_id = unquote(uri.removeprefix(CONTEXT))
            body = await mcp.registry.result("context.get", {"contextId": context_id, "text": True}, mcp.call())
            return _text(uri, body["text"], "text/plain")
        parsed = urlparse(uri)
        if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
            raise MCPError(RESOURCE_NOT_FOUND, f"unknown resource {uri!r}: resources are file:// URIs inside the "
                           f"workspace and {CONTEXT}<id>")
        path = Path(unquote(parsed.path))
        body = await mcp.registry.result("files.read", {"path": str(path)}, mcp.call())
        return _text(uri, body["content"], mimetypes.guess_type(path.name)[0] or "text/plain")
    except OperationError as exc:
        raise MCPError(RESOURCE_NOT_FOUND if exc.code.value == "not_found" else types.INVALID_PARAMS,
                       f"{exc.code.value}: {exc.message}") from None


def _text(uri: str, text: str, mime: str) -> types.ReadResourceResult:
    return types.ReadResourceResult(contents=[types.TextResourceContents(uri=uri, mime_type=mime, text=text)])


def _cursor(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit():
        raise MCPError(types.INVALID_PARAMS, f"invalid cursor {cursor!r}")
    return int(cursor)


async def _contexts(mcp: NexusMcp) -> list[types.Resource]:
    store = await mcp.backends.workspace.contexts()
    infos = await asyncio.to_thread(store.contexts)
    return [types.Resource(name=f"context {info.context_id}", uri=CONTEXT + info.context_id, mime_type="text/plain",
                           description=f"{info.type} from {info.source}, {info.token_count} tokens")
            for info in infos]


async def _files(mcp: NexusMcp) -> list[types.Resource]:
    handle = mcp.backends.workspace
    ws = await handle.get()
    if not await asyncio.to_thread(handle.fresh, ws):
        log.info("%s has no index yet: listing no files", handle.root)
        return []
    root = handle.root.resolve()
    infos = await asyncio.to_thread(lambda: sorted(ws.files(), key=lambda info: info.path))
    return [types.Resource(name=info.path, uri=(root / info.path).as_uri(), description=f"{info.language} source",
                           mime_type=mimetypes.guess_type(info.path)[0] or "text/plain", size=_size(info))
            for info in infos]


def _size(info: Any) -> int | None:
    size = getattr(info, "size", None)
    return size if isinstance(size, int) else None
