"""``tools/list`` and ``tools/call``: the allowed operations, and one operation call per tool call.

A tool's result is the operation's result: ``structuredContent`` is exactly what the registry returns
(the same JSON the gateway sends), and the text content is that JSON for clients that only show text.
Errors an operation reports (a bad argument, not found, a path outside the workspace, forbidden) are
tool results with ``isError`` so the model reads them and can correct itself; an unknown tool is a
JSON-RPC error (-32602), as the specification asks. A streaming operation's items (``ide:output``,
``ai:delta``) go out as progress notifications when the client sent a progress token.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import anyio
import mcp_types as types
from mcp.shared.exceptions import MCPError
from mcp.shared.jsonrpc_dispatcher import progress_token_from_params

from nexus.engine.errors import NexusError
from nexus.services import ErrorCode, OperationError, Permission, translate
from nexus.services.tools import Toolbox

if TYPE_CHECKING:
    from .server import NexusMcp

log = logging.getLogger(__name__)

MAX_PROGRESS_TEXT = 4000
CLOSE_TIMEOUT = 15.0  # seconds an interrupted operation gets to clean up


def list_tools(toolbox: Toolbox) -> types.ListToolsResult:
    out = []
    for tool in toolbox:
        read_only = tool.permission is Permission.READ
        out.append(types.Tool(
            name=tool.name, title=tool.operation.name, description=tool.description,
            input_schema=tool.input_schema, output_schema=tool.output_schema,
            annotations=types.ToolAnnotations(read_only_hint=read_only, destructive_hint=False,
                                              idempotent_hint=read_only, open_world_hint=tool.operation.rate == "ai")))
    return types.ListToolsResult(tools=out)


async def call_tool(mcp: NexusMcp, ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    try:
        tool = mcp.toolbox.require(params.name)
    except OperationError as exc:
        if exc.code is ErrorCode.UNKNOWN_TYPE:
            raise MCPError(types.INVALID_PARAMS, str(exc)) from None
        return error_result(exc)
    token = progress_token_from_params(ctx.params)
    final: Any = None
    sent = 0
    try:
        stream = mcp.registry.call(tool.operation.name, params.arguments or {}, mcp.call())
        try:
            async for item in stream:
                if item.final:
                    final = item.data
                elif token is not None:
                    sent += 1
                    await ctx.session.send_progress_notification(token, float(sent), None, _progress_text(item.data),
                                                                 related_request_id=ctx.request_id)
        finally:
            # The SDK cancels a call whose client went away through anyio, whose cancellation would also
            # cancel this clean-up at its first await: shield it, so a running kernel is interrupted.
            with anyio.move_on_after(CLOSE_TIMEOUT, shield=True):
                await stream.aclose()  # type: ignore[attr-defined]
    except NexusError as exc:
        translated = translate(exc)
        if translated is None:  # a bug: logged here, reported without its internals
            log.exception("tool %s failed", params.name)
            return error_result(OperationError(ErrorCode.INTERNAL, f"{params.name} failed; see the server's log"))
        return error_result(translated)
    except Exception:
        log.exception("tool %s failed", params.name)
        return error_result(OperationError(ErrorCode.INTERNAL, f"{params.name} failed; see the server's log"))
    return result_of(final)


def result_of(data: Any) -> types.CallToolResult:
    text = json.dumps(data, ensure_ascii=False)
    structured = data if isinstance(data, dict) else None
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], structured_content=structured)


def error_result(exc: OperationError) -> types.CallToolResult:
    body = {"code": exc.code.value, "message": exc.message, **exc.extra}
    return types.CallToolResult(content=[types.TextContent(type="text", text=f"{exc.code.value}: {exc.message}")],
                                is_error=True, structured_content=body)


def _progress_text(data: Any) -> str:
    if isinstance(data, dict) and isinstance(data.get("text"), str):
        text: str = data["text"]
    else:
        text = json.dumps(data, ensure_ascii=False)
    return text[:MAX_PROGRESS_TEXT]
