"""`nexus graph SYMBOL`: where a symbol is defined, who calls it, what it calls, what imports what."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape

from .common import display_path, print_json, stdout, workspace
from .index import run_index
from .operations import call_operation


@click.command()
@click.argument("symbol")
@click.option("--root", default=".", type=click.Path(file_okay=False), help="Workspace folder (default: .).")
@click.option("--callers", "mode", flag_value="callers", help="Only the call sites of SYMBOL.")
@click.option("--callees", "mode", flag_value="callees", help="Only what SYMBOL calls.")
@click.option("--imports", "mode", flag_value="imports",
              help="Imports and importers of SYMBOL's file (SYMBOL may be a path).")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON (lines are 1-based).")
def graph(symbol: str, root: str, mode: str | None, limit: int, as_json: bool) -> None:
    """Show the code graph around SYMBOL (`name`, `Class.method`, `ns::name` or `path:name`)."""
    with workspace(root) as ws:
        if not ws.status().indexed:
            run_index(ws)
    result: dict[str, Any] = call_operation(root, "graph", {"symbol": symbol, "mode": mode, "limit": limit})
    if as_json:
        print_json(result)
    elif mode == "imports":
        _print_imports(result)
    else:
        _print_calls(result)


def _print_calls(result: dict[str, Any]) -> None:
    for d in result["definitions"]:
        stdout.print(f"[cyan]{escape(display_path(d['path']))}[/]:{d['line']}  [magenta]{d['kind']}[/] "
                     f"[bold]{escape(d['qualifiedName'])}[/]  [dim]{escape(d['signature'])}[/]")
    if "callers" in result:
        stdout.print(f"\n[bold]callers[/] ({len(result['callers'])})")
        for e in result["callers"]:
            caller = e["caller"] or "<top level>"
            stdout.print(f"  [cyan]{escape(display_path(e['path']))}[/]:{e['line']}  {escape(caller)}")
    if "callees" in result:
        stdout.print(f"\n[bold]callees[/] ({len(result['callees'])})")
        for e in result["callees"]:
            if e["targets"]:
                where = ", ".join(f"{display_path(t['path'])}:{t['line']}" for t in e["targets"][:3])
            else:
                where = "ambiguous" if e["ambiguous"] else "outside the workspace"
            stdout.print(f"  :{e['line']}  [bold]{escape(e['callee'])}[/]  [dim]{escape(where)}[/]")


def _print_imports(result: dict[str, Any]) -> None:
    for entry in result["files"]:
        stdout.print(f"[bold cyan]{escape(display_path(entry['path']))}[/]")
        stdout.print(f"  imports ({len(entry['imports'])})")
        for e in entry["imports"]:
            target = display_path(e["target"]) if e["target"] else "[dim]outside the workspace[/]"
            stdout.print(f"    :{e['line']}  {escape(e['module'])}  → {target}")
        stdout.print(f"  imported by ({len(entry['importers'])})")
        for e in entry["importers"]:
            stdout.print(f"    [cyan]{escape(display_path(e['path']))}[/]:{e['line']}  {escape(e['module'])}")

