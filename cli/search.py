"""`nexus search QUERY`: ranked code (chunk) search, symbol search or file search (the ``search`` operation)."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape

from .common import display_path, print_json, stdout, workspace
from .index import run_index
from .operations import call_operation


@click.command()
@click.argument("query")
@click.option("--root", default=".", type=click.Path(file_okay=False), help="Workspace folder (default: .).")
@click.option("--files", "mode", flag_value="files", help="Rank files rather than code chunks.")
@click.option("--symbols", "mode", flag_value="symbols", help="Fuzzy search over symbol names.")
@click.option("--lang", "languages", multiple=True, help="Only this language (repeatable): python, js, ts, java, c, cpp.")
@click.option("--kind", "kinds", multiple=True, help="With --symbols: only this kind (class, function, ...).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list (lines are 1-based).")
def search(query: str, root: str, mode: str | None, languages: tuple[str, ...], kinds: tuple[str, ...],
           limit: int, as_json: bool) -> None:
    """Search the index of --root for QUERY; an unindexed root is indexed first."""
    with workspace(root) as ws:
        if not ws.status().indexed:
            run_index(ws)
    payload = {"query": query, "mode": mode or "text", "limit": limit, "languages": list(languages),
               "kinds": list(kinds)}
    results: list[dict[str, Any]] = call_operation(root, "search", payload)["hits"]
    if as_json:
        print_json(results)
        return
    if not results:
        stdout.print("no results")
        return
    for row in results:
        where = f"[cyan]{escape(display_path(row['path']))}[/]:{row['line']}"
        if mode == "symbols":
            name = escape(f"{row['container']}.{row['name']}" if row["container"] else row["name"])
            stdout.print(f"{where}  [magenta]{row['kind']:<11}[/] [bold]{name}[/]  [dim]{escape(row['signature'])}[/]")
        elif mode == "files":
            stdout.print(f"{where}  [dim]{escape(row['symbol'])}[/]  ({row['score']:.2f})")
        else:
            stdout.print(f"{where}-{row['endLine']}  [bold]{escape(row['symbol'])}[/]  [dim]{escape(row['preview'])}[/]")
