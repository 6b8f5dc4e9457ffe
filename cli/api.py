"""`nexus api`: what the operations layer serves, for client authors (and the MCP face)."""

from __future__ import annotations

import click

from .common import print_json, stdout


@click.group()
def api() -> None:
    """The operations every face serves (gateway messages, Jupyter REST, LSP nexus/*, CLI --json)."""


@api.command()
@click.argument("operation", required=False)
@click.option("--list", "as_list", is_flag=True, help="One line per operation instead of the JSON Schema.")
def schema(operation: str | None, as_list: bool) -> None:
    """Print the JSON Schema of every operation (or of OPERATION): parameters, streamed events, result."""
    from nexus.services import Registry

    registry = Registry.default()
    described = registry.schema()
    if operation is not None:
        if operation not in described:
            raise click.ClickException(f"unknown operation {operation!r}; known: {', '.join(described)}")
        described = {operation: described[operation]}
    if not as_list:
        print_json(described)
        return
    for name, info in described.items():
        stdout.print(f"[bold]{name:<18}[/] {info['message']:<16} {info['role']:<9} {info['summary']}")
