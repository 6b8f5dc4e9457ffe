"""``nexus gateway``: the WebSocket gateway in the foreground until SIGINT/SIGTERM, which shut it down
gracefully (in-flight requests get ``gateway.shutdown_grace`` seconds)."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
from pathlib import Path

import click

from nexus.engine.config import load_settings
from nexus.engine.errors import NexusError
from nexus.gateway import Gateway, GatewaySettings


@click.command()
@click.option("--host", default=None, help="Address to listen on [default: 127.0.0.1, or gateway.host].")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port to listen on; 0 picks a free one [default: 4000, or gateway.port].")
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Workspace served by files:read and the engine.")
def gateway(host: str | None, port: int | None, root: Path) -> None:
    """Serve ws://HOST:PORT/ws/gateway, plus GET /health and GET /metrics.

    Users come from `nexus users add`; settings from the [gateway] section of nexus.toml / .nexus.toml
    or NEXUS_GATEWAY_* variables.
    """
    try:
        settings = load_settings(root).section("gateway", GatewaySettings)
        changes = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
        settings = dataclasses.replace(settings, **changes)  # type: ignore[arg-type]
        gw = Gateway.create(settings, root)
        if not gw.users.all():
            click.echo(f"no gateway users yet in {settings.users_path()}: add one with "
                       "`nexus users add NAME --role developer`", err=True)
    except NexusError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        asyncio.run(_serve(gw))
    except OSError as exc:  # the port is taken, the address does not exist
        raise click.ClickException(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}") from exc


async def _serve(gw: Gateway) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await gw.start()
    click.echo(f"nexus gateway listening on {gw.url}", err=True)
    await stop.wait()
    click.echo("nexus gateway shutting down", err=True)
    await gw.stop()
    click.echo("nexus gateway stopped", err=True)
