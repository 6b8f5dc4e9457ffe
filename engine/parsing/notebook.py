"""Jupyter notebooks are indexed as their code cells, joined by newlines into one text; the cell map
turns a line of that text back into (cell index, line within the cell)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..languages.notebook import cell_language
from ..model import CellSpan


@dataclass(frozen=True, slots=True)
class NotebookSource:
    language: str
    text: bytes
    cells: tuple[CellSpan, ...]


def notebook_source(raw: bytes) -> NotebookSource:
    """Raises ValueError when ``raw`` is not a notebook (bad JSON or no cell list) or its cells are in
    a language Nexus does not index."""
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a valid notebook: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise ValueError("not a valid notebook: no cell list")
    language = cell_language(document.get("metadata")).name  # UnknownLanguageError is a ValueError
    parts: list[str] = []
    cells: list[CellSpan] = []
    line = 0
    for index, cell in enumerate(document["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        # IPython magics and shell escapes are not the kernel language: blank them, keep the lines.
        text = "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in text.split("\n"))
        count = text.count("\n") + 1
        cells.append(CellSpan(index, line, count))
        parts.append(text)
        line += count
    return NotebookSource(language, "\n".join(parts).encode("utf-8"), tuple(cells))


def cell_position(cells: tuple[CellSpan, ...], line: int) -> tuple[int, int] | None:
    """(cell index, line within the cell) for a line of the joined text, or None past the end."""
    for cell in cells:
        if cell.start_line <= line < cell.start_line + cell.line_count:
            return cell.cell, line - cell.start_line
    return None
