"""`nexus status`: what is indexed (the committed state), its size, when, and what is in flight."""

from __future__ import annotations

import datetime

import click

from .common import display_path, print_json, stdout, workspace


@click.command()
@click.option("--root", default=".", type=click.Path(file_okay=False), help="Workspace folder (default: .).")
@click.option("--json", "as_json", is_flag=True)
def status(root: str, as_json: bool) -> None:
    """Show the state of the index of --root."""
    with workspace(root) as ws:
        state = ws.status()
    if as_json:
        print_json(state.to_json())
        return
    if not state.indexed:
        stdout.print(f"{display_path(state.root)} is not indexed yet (run `nexus index {display_path(state.root)}`)")
        return
    when = datetime.datetime.fromtimestamp(state.updated_at or 0).isoformat(" ", "seconds")
    stdout.print(f"[bold]{display_path(state.root)}[/]")
    stdout.print(f"  files       {state.files:,} ({state.bytes_indexed / 1e6:.1f} MB of source)")
    stdout.print(f"  symbols     {state.symbols:,}")
    stdout.print(f"  chunks      {state.chunks:,}")
    stdout.print(f"  on disk     {state.size_on_disk / 1e6:.1f} MB at {display_path(state.index_dir)}")
    stdout.print(f"  updated     {when}")
    stdout.print(f"  schema      v{state.schema_version}")
    if state.writer is not None:
        stdout.print(f"  [yellow]being updated by PID {state.writer}: {state.pending:,} file(s) waiting for "
                     "the search-index commit (searches show their previous versions until then)[/]")
    elif state.interrupted:
        stdout.print(f"  [yellow]the last index run was cut short: {state.pending:,} file(s) not committed "
                     "(searches show their previous versions); the next `nexus index` commits them[/]")
    last = state.last_run or {}
    if last.get("skipped"):
        stdout.print(f"  skipped     {len(last['skipped'])} file(s) at the last run")
