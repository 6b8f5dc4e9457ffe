"""`nexus search QUERY`: ranked code (chunk) search, symbol search or file search."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape

from nexus.engine import NexusError, SymbolHit, TextHit, Workspace

from .common import display_path, print_json, stdout, workspace
from .index import run_index


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
        try:
            if mode == "symbols":
                results = [_symbol_json(h) for h in ws.search_symbols(query, limit, languages, kinds)]
            elif mode == "files":
                results = _files(ws, query, limit, languages)
            else:
                results = [_text_json(h) for h in ws.search_text(query, limit, languages)]
        except NexusError as exc:
            raise click.ClickException(str(exc)) from exc
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


def _symbol_json(hit: SymbolHit) -> dict[str, Any]:
    return {"path": hit.path, "line": hit.line + 1, "column": hit.col + 1, "name": hit.name, "kind": hit.kind,
            "container": hit.container, "signature": hit.signature, "language": hit.language, "score": hit.score}


def _text_json(hit: TextHit) -> dict[str, Any]:
    return {"path": hit.path, "line": hit.line + 1, "endLine": hit.end_line + 1, "symbol": hit.symbol,
            "language": hit.language, "score": hit.score, "preview": hit.preview}


def _files(ws: Workspace, query: str, limit: int, languages: tuple[str, ...]) -> list[dict[str, Any]]:
    """Files by fused rank (BM25 chunks, symbol matches, code graph, recency; see nexus.engine.retrieval)."""
    from nexus.engine.languages import expand_language
    from nexus.engine.retrieval import RetrievalQuery, Retriever

    try:
        grammars = {g for name in languages for g in expand_language(name)}
    except ValueError as exc:
        raise NexusError(str(exc)) from exc
    out = []
    for hit in Retriever(ws).rank_files(RetrievalQuery(query), limit * 5):
        if not {"bm25", "symbols", "uses"} & hit.ranks.keys():
            continue  # ranked by the graph or recency alone: no evidence it matches the query
        info = ws.file_info(hit.path)
        if info is None or (grammars and info.language not in grammars):
            continue
        out.append({"path": hit.path, "line": hit.line + 1, "score": hit.score, "language": info.language,
                    "symbol": "", "signals": hit.ranks})
        if len(out) >= limit:
            break
    return out
