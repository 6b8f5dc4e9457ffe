"""`nexus mcp`: the workspace's operations as a Model Context Protocol server, for Claude Code, VS Code,
Zed and any MCP client (stdio by default; `--http` for streamable HTTP with a bearer token)."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import sys
from pathlib import Path

import click

TOKEN_ENV = "NEXUS_MCP_TOKEN"
log = logging.getLogger(__name__)


@click.command()
@click.option("--root", default=".", type=click.Path(file_okay=False, exists=True),
              help="Workspace folder (default: .).")
@click.option("--allow", "allow", default="read", show_default=True, envvar="NEXUS_MCP_ALLOW",
              type=click.Choice(["read", "edit", "execute"]),
              help="What the client may do on its own: read (search, read, graph), edit (also index and stored "
                   "contexts), execute (also run code and call AI providers).")
@click.option("--http", "http", is_flag=True, help="Serve streamable HTTP instead of stdio.")
@click.option("--host", default="127.0.0.1", show_default=True, help="HTTP address to bind.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="HTTP port (0: any free port).")
@click.option("--token-file", type=click.Path(dir_okay=False, exists=True),
              help=f"Read the HTTP bearer token from this file (else ${TOKEN_ENV}, else a new one is printed).")
@click.option("--log-file", type=click.Path(dir_okay=False, writable=True), help="Write the log to this file.")
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
def mcp(root: str, allow: str, http: bool, host: str, port: int, token_file: str | None, log_file: str | None,
        verbose: int) -> None:
    """Serve the workspace at --root over MCP. Stdout carries only the protocol on stdio; logs go to stderr."""
    _logging(log_file, verbose)
    from nexus.engine.config import load_settings
    from nexus.mcp_server import McpSettings, NexusMcp, serve_http, serve_stdio
    from nexus.services import Permission

    path = Path(root).resolve()
    token = _token(token_file) if http else None
    if http and host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"nexus mcp: listening on {host}, reachable from other machines; the token is all that "
                   "protects this workspace", err=True)

    async def run() -> None:
        server = NexusMcp.open(McpSettings(path, Permission.parse(allow)), load_settings(path))
        indexing = asyncio.create_task(_index_if_new(server))
        try:
            if token is None:
                await serve_stdio(server)
            else:
                await serve_http(server, host, port, token, ready=lambda url: _announce(url, token, token_file))
        finally:
            indexing.cancel()
            await server.aclose()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


def _announce(url: str, token: str, token_file: str | None) -> None:
    click.echo(f"nexus mcp: serving {url}", err=True)
    if token_file is None and not os.environ.get(TOKEN_ENV):
        click.echo(f"nexus mcp: Authorization: Bearer {token}", err=True)


def _token(token_file: str | None) -> str:
    if token_file is not None:
        token = Path(token_file).read_text(encoding="utf-8").strip()
    else:
        token = os.environ.get(TOKEN_ENV, "").strip() or secrets.token_urlsafe(32)
    if len(token) < 16:
        raise click.BadParameter("the token must be at least 16 characters", param_hint="--token-file")
    return token


async def _index_if_new(server: object) -> None:
    """A workspace never indexed is indexed once in the background, so the tools soon have answers."""
    from nexus.engine.errors import NexusError

    handle = server.backends.workspace  # type: ignore[attr-defined]
    try:
        ws = await handle.get()
        if ws.store.meta("updated_at") is not None:
            return
        log.info("indexing %s (first use)", handle.root)
        async with handle.writing:
            await asyncio.to_thread(ws.index)
    except NexusError as exc:
        log.warning("could not index %s: %s", handle.root, exc)


def _logging(log_file: str | None, verbose: int) -> None:
    level = logging.WARNING - 10 * min(verbose, 2) if verbose else logging.INFO if log_file else logging.WARNING
    handler: logging.Handler = logging.FileHandler(log_file, encoding="utf-8") if log_file \
        else logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
