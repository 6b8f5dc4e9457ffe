"""`nexus dap`: the debug adapter editors start (stdio; `--port` for clients that connect over TCP)."""

from __future__ import annotations

import asyncio
import json
import logging
import sys

import click


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), help="Listen on this TCP port instead of stdio (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on with --port.")
@click.option("--list-sessions", is_flag=True, help="Print the kernel sessions a debugger can attach to, as JSON.")
@click.option("--log-file", type=click.Path(dir_okay=False, writable=True), help="Write the log to this file.")
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
def dap(port: int | None, host: str, list_sessions: bool, log_file: str | None, verbose: int) -> None:
    """Run the Nexus debug adapter (Debug Adapter Protocol).

    `launch` debugs a Python file or module under debugpy; `attach` debugs the code a Nexus kernel
    session runs (by sessionId, kernelId or connectionFile). With stdio, stdout carries only the
    protocol; logs go to stderr or --log-file. With --port, the first line on stdout is
    `listening on HOST:PORT`.
    """
    from nexus.kernels.debug import SessionRegistry

    if list_sessions:
        entries = SessionRegistry().entries()
        sys.stdout.write(json.dumps([e.to_json() for e in entries], indent=2) + "\n")
        return
    _configure_logging(log_file, verbose)
    from nexus.kernels.debug.session import serve_stdio, serve_tcp

    def listening(bound_host: str, bound_port: int) -> None:
        sys.stdout.write(f"listening on {bound_host}:{bound_port}\n")
        sys.stdout.flush()

    if port is None:
        asyncio.run(serve_stdio())
        return
    try:
        asyncio.run(serve_tcp(host, port, on_listening=listening))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from exc


def _configure_logging(log_file: str | None, verbose: int) -> None:
    level = logging.WARNING - 10 * min(verbose, 2) if verbose else logging.INFO if log_file else logging.WARNING
    handler: logging.Handler = (
        logging.FileHandler(log_file, encoding="utf-8") if log_file else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
