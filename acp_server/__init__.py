"""``nexus acp``: the Nexus agent as an Agent Client Protocol agent (the ``agent-client-protocol``
package), so Zed, Neovim ACP clients and jupyter-ai v3 can drive it. See docs/agent.md."""

from __future__ import annotations

from .agent import NexusAcpAgent, serve_stdio

__all__ = ["NexusAcpAgent", "serve_stdio"]
