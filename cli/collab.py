"""``nexus collab``: live sessions from the command line (the gateway hosts them: ``nexus gateway``)."""

from __future__ import annotations

import asyncio
import json

import click


@click.group()
def collab() -> None:
    """Live collaboration: rooms at ws://HOST:PORT/ws/collab/<room> (docs/collaboration.md)."""


@collab.command()
def helper() -> None:
    """Serve one editor's live session as JSON lines on stdin/stdout (the Neovim plugin runs this)."""
    from nexus.cli.collab_helper import serve

    asyncio.run(serve())


@collab.command()
@click.option("--gateway", default="ws://127.0.0.1:4000", show_default=True, help="The gateway's address.")
@click.option("--user", prompt=True, help="Gateway user name.")
@click.password_option(confirmation_prompt=False, help="The user's password (asked when missing).")
def token(gateway: str, user: str, password: str) -> None:
    """Print a gateway token for live-session clients (NEXUS_COLLAB_TOKEN, y-websocket ?token=)."""
    from nexus.cli.collab_helper import login

    try:
        click.echo(asyncio.run(login(gateway, user, password)))
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc


@collab.command()
@click.argument("room")
@click.option("--gateway", default="ws://127.0.0.1:4000", show_default=True)
@click.option("--token", "token_", envvar="NEXUS_COLLAB_TOKEN", required=True, help="[env: NEXUS_COLLAB_TOKEN]")
@click.option("--force", is_flag=True, help="Overwrite the file even if it changed on disk.")
def save(room: str, gateway: str, token_: str, force: bool) -> None:
    """Write ROOM's shared text to its workspace file (refused when the disk copy changed, unless --force)."""
    from nexus.cli.collab_helper import request

    try:
        click.echo(json.dumps(asyncio.run(request(gateway, token_, "collab:save", {"room": room, "force": force}))))
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
