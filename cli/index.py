"""`nexus index [PATH]`: build or update the index, with a progress bar and a summary."""

from __future__ import annotations

import click
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from nexus.engine import IndexSummary, NexusError, Workspace
from nexus.engine import Progress as IndexProgress

from .common import display_path, print_json, stderr, stdout, workspace


@click.command()
@click.argument("path", default=".", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON instead of a table.")
@click.option("--wait", type=float, default=0.0, help="Seconds to wait for another indexer to finish.")
def index(path: str, as_json: bool, wait: float) -> None:
    """Build or update the index of PATH (default: this folder)."""
    with workspace(path) as ws:
        summary = run_index(ws, wait, show_progress=not as_json or stderr.is_terminal)
    if as_json:
        print_json(summary.to_json())
    else:
        print_summary(summary)


def run_index(ws: Workspace, wait: float = 0.0, show_progress: bool = True) -> IndexSummary:
    """Index with a rich progress bar on stderr (files, MB/s, ETA)."""
    if ws.rebuilt_reason:
        stderr.print(f"[yellow]{ws.rebuilt_reason}[/]")
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[files]} files"),
               TransferSpeedColumn(), TimeRemainingColumn(), TimeElapsedColumn())
    with Progress(*columns, console=stderr, transient=True, disable=not show_progress) as bar:
        task: TaskID = bar.add_task("scanning", total=None, files="")

        def report(event: IndexProgress) -> None:
            # Bytes drive the bar so that MB/s and the ETA are right; the files column counts files.
            if event.phase == "indexing":
                bar.update(task, description="indexing", total=event.bytes_total, completed=event.bytes_done,
                           files=f"{event.files_done}/{event.files_total}")
            elif event.phase == "graph":
                bar.update(task, description="code graph", total=event.files_total, completed=event.files_done,
                           files=f"{event.files_done}/{event.files_total}")
            else:
                bar.update(task, description=event.phase)

        try:
            return ws.index(progress=report, wait=wait)  # the run brings the code graph along
        except NexusError as exc:
            raise click.ClickException(str(exc)) from exc


def print_summary(summary: IndexSummary) -> None:
    table = Table(title=f"Index of {display_path(summary.root)}", show_footer=True)
    table.add_column("language", footer="total")
    table.add_column("files", justify="right", footer=str(summary.files))
    for language, count in sorted(summary.files_by_language.items()):
        table.add_row(language, str(count))
    stdout.print(table)
    stdout.print(
        f"{summary.symbols:,} symbols, {summary.chunks:,} chunks, {summary.bytes / 1e6:.1f} MB indexed "
        f"in {summary.seconds:.2f} s ({summary.parsed} parsed, {summary.unchanged} unchanged, "
        f"{summary.removed} removed{f', {summary.repaired} repaired' if summary.repaired else ''})")
    if summary.rebuilt:
        stdout.print(f"[yellow]{summary.rebuilt}[/]")
    if summary.skipped:
        skipped = Table(title=f"{len(summary.skipped)} skipped")
        skipped.add_column("file")
        skipped.add_column("reason")
        for item in summary.skipped[:50]:
            skipped.add_row(display_path(item.path), item.reason)
        if len(summary.skipped) > 50:
            skipped.add_row("…", f"{len(summary.skipped) - 50} more (see --json)")
        stdout.print(skipped)
    if summary.notes:
        stdout.print(f"{len(summary.notes)} file(s) indexed with notes (syntax errors, invalid UTF-8); "
                     "see --json")
