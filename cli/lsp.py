"""`nexus lsp`: the language server every editor launches (stdio; `--tcp` for debugging)."""

from __future__ import annotations

import gc
import logging
import sys

import click


@click.command()
@click.option("--tcp", "tcp", metavar="HOST:PORT", help="Listen on a TCP address instead of stdio (debugging).")
@click.option("--log-file", type=click.Path(dir_okay=False, writable=True), help="Write the log to this file.")
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
def lsp(tcp: str | None, log_file: str | None, verbose: int) -> None:
    """Run the Nexus language server. Stdout carries only the protocol; logs go to stderr or --log-file."""
    level = logging.WARNING - 10 * min(verbose, 2) if verbose else logging.INFO if log_file else logging.WARNING
    handler: logging.Handler = logging.FileHandler(log_file, encoding="utf-8") if log_file \
        else logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # pygls logs every message body at INFO: keep that for -vv.
    logging.getLogger("pygls").setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)

    from nexus.lsp_server.server import create_server, stdio_streams

    server = create_server()
    # The protocol's hundreds of type classes and converters live as long as the process: keep them out
    # of the cyclic collector's full passes, which otherwise pause a request for 40-50 ms now and then.
    gc.freeze()
    # Requests share the interpreter with background threads (diagnostics, index updates): a thread
    # waiting for the GIL gets it after 1 ms rather than Python's default 5 ms, which bounds what a busy
    # background thread adds to a request's latency.
    sys.setswitchinterval(0.001)
    if tcp:
        host, _, port = tcp.rpartition(":")
        if not host or not port.isdigit():
            raise click.BadParameter("expected HOST:PORT, e.g. 127.0.0.1:2087", param_hint="--tcp")
        server.start_tcp(host, int(port))
        return
    stdin, stdout = stdio_streams()
    server.start_io(stdin, stdout)
