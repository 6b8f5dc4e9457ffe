"""The MCP server: one :class:`NexusMcp` per workspace, served over stdio or streamable HTTP.

The SDK's low-level ``Server`` is used rather than its decorator API because the tools are not Python
functions here: they are the registry's operations, listed and validated from their declarations
(``nexus.services.tools``), so a new operation is a new tool without a line in this face.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from mcp.server.lowlevel import Server

from nexus.engine.config import Settings
from nexus.services import Backends, Call, Identity, Permission, Registry
from nexus.services.tools import Toolbox

from . import prompts, resources, tools

log = logging.getLogger(__name__)

NAME = "nexus"


@dataclasses.dataclass(frozen=True, slots=True)
class McpSettings:
    root: Path
    permission: Permission = Permission.READ  # what the client may do on its own
    user: str = "mcp"


class NexusMcp:
    """The MCP face of one workspace: its backends, the tools the client was allowed, and the SDK server."""

    def __init__(self, settings: McpSettings, backends: Backends, registry: Registry | None = None) -> None:
        self.settings = settings
        self.backends = backends
        self.registry = registry or Registry.default()
        self.toolbox = Toolbox(self.registry, settings.permission)
        self.identity = Identity(settings.user, settings.permission.role())
        self.server: Server[Any] = Server(
            NAME, version=_version(), title="Nexus",
            instructions=("Nexus indexes this workspace: search it (text, symbols, files), read files, walk the "
                          "code graph and read the repo map before reading whole files."),
            on_list_tools=self._list_tools, on_call_tool=self._call_tool,
            on_list_resources=self._list_resources, on_list_resource_templates=self._list_templates,
            on_read_resource=self._read_resource, on_list_prompts=self._list_prompts,
            on_get_prompt=self._get_prompt, get_tool_input_schema=self._input_schema)

    @classmethod
    def open(cls, settings: McpSettings, workspace_settings: Settings) -> NexusMcp:
        """Backends for ``settings.root``: providers and kernels only when execution was allowed."""
        executes = settings.permission >= Permission.EXECUTE
        parts: dict[str, Any] = {}
        if executes:
            from nexus.services.kernels_executor import KernelsExecutor

            parts["executor"], parts["kernels_problem"] = KernelsExecutor.from_settings(workspace_settings,
                                                                                        settings.root)
        backends = Backends.open(settings.root, workspace_settings, providers=executes, **parts)
        return cls(settings, backends)

    def call(self) -> Call:
        return Call(self.backends, self.identity, peer="mcp")

    async def aclose(self) -> None:
        await self.backends.aclose()

    def _input_schema(self, name: str) -> dict[str, Any] | None:
        """For the SDK's per-request header check on the 2026-07-28 HTTP transport, without a tools/list."""
        tool = next((t for t in self.toolbox if t.name == name), None)
        return tool.input_schema if tool is not None else None

    # The SDK's handlers, each a thin call into the modules that convert.
    async def _list_tools(self, ctx: Any, params: Any) -> Any:
        return tools.list_tools(self.toolbox)

    async def _call_tool(self, ctx: Any, params: Any) -> Any:
        return await tools.call_tool(self, ctx, params)

    async def _list_resources(self, ctx: Any, params: Any) -> Any:
        return await resources.list_resources(self, params)

    async def _list_templates(self, ctx: Any, params: Any) -> Any:
        return resources.list_templates()

    async def _read_resource(self, ctx: Any, params: Any) -> Any:
        return await resources.read_resource(self, params)

    async def _list_prompts(self, ctx: Any, params: Any) -> Any:
        return prompts.list_prompts()

    async def _get_prompt(self, ctx: Any, params: Any) -> Any:
        return await prompts.get_prompt(self, params)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nexus-ide")
    except PackageNotFoundError:
        return "0"


async def serve_stdio(mcp: NexusMcp) -> None:
    """Serve one client on stdin/stdout until it closes them."""
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read, write):
        await mcp.server.run(read, write, mcp.server.create_initialization_options())


async def serve_http(mcp: NexusMcp, host: str, port: int, token: str, *, ready: Any = None) -> None:
    """Serve streamable HTTP at ``http://host:port/mcp``; every request needs ``Authorization: Bearer
    token``. ``ready(url)`` is called once the socket listens (the port is known when 0 was asked)."""
    import socket

    import uvicorn

    from .auth import BearerAuth

    app = BearerAuth(mcp.server.streamable_http_app(host=host), token)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it a reply's last small write waits for the client's
    # delayed ACK (Nagle), about 40 ms a tool call on Linux (bench/agent_bench.py: 56 ms -> 4.5 ms).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    bound = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False,
                            timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{bound}/mcp"
    log.info("MCP over streamable HTTP at %s", url)

    async def started() -> None:
        if ready is not None:
            ready(url)

    import asyncio

    serving = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started and not serving.done():
        await asyncio.sleep(0.02)
    if server.started:
        await started()
    await serving
