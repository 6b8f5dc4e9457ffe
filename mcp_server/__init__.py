"""``nexus mcp``: the operations as a Model Context Protocol server (the official ``mcp`` SDK).

Tools are the operations the client was allowed (read-only by default; see
``nexus.services.permission``), listed from the registry with their JSON Schema; resources are the
workspace's files and its stored contexts; the repo map is a prompt. stdio, or streamable HTTP on
127.0.0.1 with a bearer token. See docs/mcp.md.
"""

from __future__ import annotations

from .server import McpSettings, NexusMcp, serve_http, serve_stdio

__all__ = ["McpSettings", "NexusMcp", "serve_http", "serve_stdio"]
