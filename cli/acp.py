"""`nexus acp`: the Nexus agent over the Agent Client Protocol on stdio, for Zed, Neovim ACP clients and
jupyter-ai v3. Stdout carries only the protocol; logs go to stderr or --log-file."""

from __future__ import annotations

import asyncio

import click

from .mcp import _logging


@click.command()
@click.option("--allow", default="edit", show_default=True, envvar="NEXUS_ACP_ALLOW",
              type=click.Choice(["read", "edit", "execute"]),
              help="What the agent may do without asking; anything above asks the client first.")
@click.option("--log-file", type=click.Path(dir_okay=False, writable=True), help="Write the log to this file.")
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
def acp(allow: str, log_file: str | None, verbose: int) -> None:
    """Serve the Nexus agent over ACP on stdio (each session's workspace is its cwd)."""
    _logging(log_file, verbose)
    from nexus.acp_server import NexusAcpAgent, serve_stdio
    from nexus.services import Permission

    try:
        asyncio.run(serve_stdio(NexusAcpAgent(Permission.parse(allow))))
    except KeyboardInterrupt:
        pass
