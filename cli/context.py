"""`nexus context build|upload|show|stream|merge|delete|list`: AI contexts from the index, stored."""

from __future__ import annotations

import asyncio
import datetime
import sys
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from nexus.engine import NexusError
from nexus.engine.context import (
    MAX_BUDGET,
    ContextInfo,
    ContextRequest,
    build_context,
    settings_for,
    store_for,
)

from .common import display_path, print_json, stdout, workspace
from .index import run_index

ROOT = click.option("--root", default=".", type=click.Path(file_okay=False),
                    help="Workspace folder (default: .); contexts are stored next to its index.")
JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group()
def context() -> None:
    """Build, store and stream AI contexts (up to 1,000,000 tokens)."""


@context.command()
@ROOT
@click.option("--query", "-q", default="", help="What the context is for (natural language or identifiers).")
@click.option("--file", "path", default=None, help="The current file.")
@click.option("--line", type=click.IntRange(1), default=None, help="The cursor's line in --file (1-based).")
@click.option("--open", "open_files", multiple=True, help="An open editor file (repeatable).")
@click.option("--budget", type=int, default=8000, show_default=True, help=f"Tokens, 1..{MAX_BUDGET:,}.")
@click.option("--model", default=None, help="Model whose tokenizer counts the budget (e.g. gpt-4o).")
@click.option("--no-repo-map", is_flag=True, help="Leave the repo map out.")
@click.option("--text", "print_text", is_flag=True, help="Print the context text instead of the receipt.")
@JSON
def build(root: str, query: str, path: str | None, line: int | None, open_files: tuple[str, ...], budget: int,
          model: str | None, no_repo_map: bool, print_text: bool, as_json: bool) -> None:
    """Build a context from the index of --root, store it, and print its id and receipt."""
    if line is not None and path is None:
        raise click.UsageError("--line needs --file")
    request = ContextRequest(query=query, path=path, line=None if line is None else line - 1,
                             open_files=open_files, budget=budget, model=model, repo_map=not no_repo_map)
    with workspace(root) as ws:
        try:
            if not ws.status().indexed:
                run_index(ws)
            built = build_context(ws, request)
            info = store_for(ws).put(built)
        except NexusError as exc:
            raise click.ClickException(str(exc)) from exc
    if print_text:
        sys.stdout.write(built.text())
    elif as_json:
        print_json({**info.to_json(), "receipt": built.receipt()})
    else:
        _print_info(info)
        _print_receipt([{**p, "lines": f"{p['lines'][0]}-{p['lines'][1]}"} for p in built.receipt()])


@context.command()
@ROOT
@click.argument("source", type=click.File("rb"))
@click.option("--max-tokens", type=int, default=None, help="Refuse content above this many tokens.")
@click.option("--type", "type_", default="document", show_default=True)
@JSON
def upload(root: str, source: Any, max_tokens: int | None, type_: str, as_json: bool) -> None:
    """Store the text of SOURCE (a file, or - for stdin) as a context."""
    with workspace(root) as ws:
        try:
            info = store_for(ws).create_from_content(iter(lambda: source.read(1 << 16), b""), max_tokens,
                                                     type_=type_)
        except NexusError as exc:
            raise click.ClickException(str(exc)) from exc
    if as_json:
        print_json(info.to_json())
    else:
        _print_info(info)


@context.command()
@ROOT
@click.argument("context_id")
@click.option("--page", type=click.IntRange(0), default=None, help="Print this page of pieces with their text.")
@click.option("--page-size", type=click.IntRange(1), default=20, show_default=True)
@JSON
def show(root: str, context_id: str, page: int | None, page_size: int, as_json: bool) -> None:
    """Show a stored context's metadata and receipt (or one page of its pieces)."""
    with workspace(root) as ws:
        store = store_for(ws)
        try:
            info = store.get(context_id)
            if page is not None:
                found = store.page(context_id, page, page_size)
            else:
                found = {"pieces": [p.to_json() for p in store.pieces(context_id)]}
        except NexusError as exc:
            raise click.ClickException(str(exc)) from exc
    if as_json:
        print_json({**info.to_json(), **found})
        return
    _print_info(info)
    if page is None:
        _print_receipt([{**p, "lines": f"{p['startLine']}-{p['endLine']}"} for p in found["pieces"]])
        return
    stdout.print(f"page {found['page']} of {found['pages'] - 1} (0-based)")
    for piece in found["pieces"]:
        sys.stdout.write(piece["text"])


@context.command()
@ROOT
@click.argument("context_id")
@click.option("--chunk-size", type=click.IntRange(1), default=None, help="Bytes per chunk (default 65536).")
def stream(root: str, context_id: str, chunk_size: int | None) -> None:
    """Write a stored context's text to stdout, chunk by chunk (memory stays bounded)."""
    with workspace(root) as ws:
        store = store_for(ws)
        size = chunk_size or settings_for(ws).chunk_size

        async def pump() -> None:
            out = sys.stdout.buffer
            async for chunk in store.stream(context_id, size):
                out.write(chunk)
            out.flush()

        try:
            asyncio.run(pump())
        except NexusError as exc:
            raise click.ClickException(str(exc)) from exc
        except BrokenPipeError:
            pass  # `nexus context stream ID | head`: the reader left, which is fine


@context.command()
@ROOT
@click.argument("context_ids", nargs=-1, required=True)
@click.option("--budget", type=int, default=MAX_BUDGET, show_default=True, help="Tokens of the merged context.")
@JSON
def merge(root: str, context_ids: tuple[str, ...], budget: int, as_json: bool) -> None:
    """Merge two or more contexts (pieces deduplicated, cut to --budget) into a new one."""
    with workspace(root) as ws:
        try:
            info = store_for(ws).merge(list(context_ids), budget)
        except NexusError as exc:
            raise click.ClickException(str(exc)) from exc
    if as_json:
        print_json(info.to_json())
    else:
        _print_info(info)


@context.command()
@ROOT
@click.argument("context_ids", nargs=-1, required=True)
def delete(root: str, context_ids: tuple[str, ...]) -> None:
    """Delete stored contexts."""
    with workspace(root) as ws:
        store = store_for(ws)
        for context_id in context_ids:
            try:
                store.delete(context_id)
            except NexusError as exc:
                raise click.ClickException(str(exc)) from exc
            stdout.print(f"deleted {context_id}")


@context.command(name="list")
@ROOT
@JSON
def list_(root: str, as_json: bool) -> None:
    """List stored contexts (expired ones are removed first)."""
    with workspace(root) as ws:
        store = store_for(ws)
        store.expire()
        infos = store.contexts()
    if as_json:
        print_json([i.to_json() for i in infos])
        return
    table = Table()
    table.add_column("id", no_wrap=True)
    for column in ("tokens", "pieces", "source", "created"):
        table.add_column(column, overflow="fold")
    for info in infos:
        table.add_row(info.context_id, f"{info.token_count:,}", str(info.pieces), escape(info.source),
                      _when(info.created_at))
    stdout.print(table)


def _when(timestamp: float | None) -> str:
    return "never" if timestamp is None else datetime.datetime.fromtimestamp(timestamp).isoformat(" ", "seconds")


def _print_info(info: ContextInfo) -> None:
    count = "exact" if info.exact else "estimated"
    stdout.print(f"[bold]{info.context_id}[/]  {info.token_count:,} tokens ({count}, {info.tokenizer}), "
                 f"{info.pieces} pieces, {info.size / 1e3:,.1f} kB → {info.compressed_size / 1e3:,.1f} kB "
                 f"compressed, expires {_when(info.expires_at)}")


def _print_receipt(rows: list[dict[str, Any]]) -> None:
    table = Table(box=None, pad_edge=False)
    for column in ("file", "lines", "tokens", "why"):
        table.add_column(column, justify="right" if column == "tokens" else "left")
    for row in rows:
        table.add_row(escape(display_path(row["path"]) or f"<{row['kind']}>"), row["lines"], f"{row['tokens']:,}",
                      escape(row["reason"]))
    stdout.print(table)
