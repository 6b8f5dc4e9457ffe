"""``nexus users add|list|remove``: the gateway's users file (``gateway.users_file``). Passwords are
prompted for (twice, hidden) unless given with ``--password`` for scripts, and stored only as scrypt
hashes. A running gateway sees changes at the next login or connection."""

from __future__ import annotations

from pathlib import Path

import click

from nexus.engine.config import load_settings
from nexus.engine.errors import NexusError
from nexus.gateway import GatewaySettings, Role, UserStore

ROLES = ("admin", "developer", "viewer")


def _store(ctx: click.Context) -> UserStore:
    path: Path | None = ctx.obj
    if path is None:
        path = load_settings(Path.cwd()).section("gateway", GatewaySettings).users_path()
    return UserStore(path)


@click.group()
@click.option("--file", "users_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Users file [default: gateway.users_file, or gateway-users.json in the config dir].")
@click.pass_context
def users(ctx: click.Context, users_file: Path | None) -> None:
    """Manage the users who may log in to `nexus gateway`."""
    ctx.obj = users_file


@users.command()
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="viewer: search and read; developer: "
              "also execute, AI and contexts; admin: everything.")
@click.option("--password", default=None, help="For scripts; without it the password is prompted for.")
@click.pass_context
def add(ctx: click.Context, name: str, role: str, password: str | None) -> None:
    """Add user NAME with ROLE."""
    store = _store(ctx)
    if password is None:
        password = click.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)
    try:
        user = store.add(name, Role.parse(role), password)
    except NexusError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"added {user.name} ({user.role.label}) to {store.path}")


@users.command(name="list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """List users and their roles."""
    store = _store(ctx)
    try:
        found = store.all()
    except NexusError as exc:
        raise click.ClickException(str(exc)) from exc
    if not found:
        click.echo(f"no users in {store.path}", err=True)
    for user in found:
        click.echo(f"{user.name}\t{user.role.label}\t{user.created}")


@users.command()
@click.argument("name")
@click.pass_context
def remove(ctx: click.Context, name: str) -> None:
    """Remove user NAME (their tokens stop working at once)."""
    store = _store(ctx)
    try:
        store.remove(name)
    except NexusError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"removed {name} from {store.path}")
