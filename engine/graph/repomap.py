"""The repo map: the files and signatures that matter most for a request, cut to a token budget.

Files come in personalised-PageRank order (see ``rank``); each contributes its top-level definitions
and the public members of its classes, one signature per line, indented by depth:

    app/config.py
      1│ def get_config(name)
      5│ def load_settings()

The cut is made whole lines at a time, and a file is left out rather than shown without its path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .facts import MAP_KINDS

if TYPE_CHECKING:
    from ..workspace import Workspace
    from .queries import CodeGraph

MAX_LINES_PER_FILE = 40
MAX_SIGNATURE = 160


@dataclass(frozen=True, slots=True)
class RepoMap:
    text: str
    tokens: int
    files: tuple[tuple[str, int, int], ...]  # (path, first line, last line) of the definitions shown


def file_block(ws: Workspace, path: str) -> tuple[str, int, int] | None:
    """(text, first line, last line) of one file's entry in the map, None when it defines nothing."""
    lines = []
    first = last = -1
    for symbol in ws.symbols(path):
        if symbol.kind not in MAP_KINDS or symbol.depth > 1:
            continue
        if symbol.depth == 1 and (symbol.name.startswith("_") and not symbol.name.startswith("__init")):
            continue
        signature = symbol.signature or symbol.name
        if len(signature) > MAX_SIGNATURE:
            signature = signature[:MAX_SIGNATURE - 1] + "…"
        line = symbol.span.start_line
        lines.append(f"{line + 1:>6}│ {'    ' * symbol.depth}{signature}")
        first = line if first < 0 else first
        last = max(last, line)
        if len(lines) >= MAX_LINES_PER_FILE:
            lines.append("      │ …")
            break
    if not lines:
        return None
    return f"{path}\n" + "\n".join(lines) + "\n", first, last


def build_repo_map(ws: Workspace, graph: CodeGraph, personalization: Mapping[str, float], budget: int,
                   count: Callable[[str], int], exclude: Iterable[str] = (),
                   ranked: list[tuple[str, float]] | None = None) -> RepoMap:
    """The map of the highest-ranked files that fits ``budget`` tokens (as measured by ``count``);
    ``ranked`` is the PageRank order when the caller already has it for ``personalization``."""
    skip = set(exclude)
    blocks: list[str] = []
    shown: list[tuple[str, int, int]] = []
    used = 0
    misses = 0
    if budget <= 0:
        return RepoMap("", 0, ())
    for path, _score in ranked if ranked is not None else graph.file_graph().ranked(personalization):
        if path in skip:
            continue
        block = file_block(ws, path)
        if block is None:
            continue
        text, first, last = block
        cost = count(text)
        if used + cost > budget:
            misses += 1
            if misses > 20 or budget - used < 20:
                break
            continue
        blocks.append(text)
        shown.append((path, first, last))
        used += cost
    return RepoMap("".join(blocks), used, tuple(shown))
