"""What the model is shown for the two git tasks, and how its review is read back.

- Commit message: the staged diff, the subjects of recent commits (the project's own style) and the
  definitions the diff touches, as a prompt; the model writes the message.
- Review: the diff against a ref plus its graph neighbourhood (the call sites of the definitions the
  diff changes, from the code graph), to a token budget; the model answers one finding per line as
  ``path:line: severity: message``, which :func:`parse_findings` reads (anything else is commentary).

Each piece shown is listed (``Piece``) so the faces can return a receipt.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import NexusError

if TYPE_CHECKING:
    from ..graph.queries import CodeGraph
    from ..vcs import Commit, FileDiff
    from ..workspace import Workspace

log = logging.getLogger(__name__)

COMMIT_SYSTEM = (
    "You write git commit messages. Given a staged diff, write one message: a subject line of at most 72 "
    "characters in the imperative mood (\"Add\", \"Fix\", not \"Added\"), then, if the change needs it, a "
    "blank line and a short body saying why. Follow the style of the project's recent subjects. Output "
    "only the message, no quotes or code fences.")
REVIEW_SYSTEM = (
    "You review a code change. Report each problem (bug, missed case, broken caller, security issue, "
    "missing test) on its own line exactly as `path:line: severity: message`, where path is a file of the "
    "diff or of the context, line is a line number in that file's new version, and severity is one of "
    "error, warning, info. Report only real problems; after the findings you may add a short summary.")
_FINDING = re.compile(r"^\s*[-*]?\s*`?(?P<path>[\w./@+-]+\.[\w]+):(?P<line>\d+)(?::\d+)?`?:?\s*"
                      r"(?:(?P<severity>error|warning|info|note)\s*:\s*)?(?P<message>.+)$", re.IGNORECASE)


class NothingToDescribe(NexusError):
    """No changes where the task looked (nothing staged, no diff against the ref)."""


@dataclass(frozen=True, slots=True)
class Piece:
    path: str
    start_line: int  # 1-based
    end_line: int
    kind: str  # diff, history, definition, caller
    reason: str
    text: str

    @property
    def tokens(self) -> int:
        return max(1, len(self.text) // 4)


@dataclass(frozen=True, slots=True)
class Finding:
    path: str
    line: int  # 1-based
    severity: str
    message: str


def diff_pieces(files: list[FileDiff], budget_chars: int) -> list[Piece]:
    out = []
    for f in files:
        if f.binary:
            text = f"(binary file {f.status})"
        else:
            text = "".join(f"{h.header}\n{h.text}" for h in f.hunks) + ("(more changes left out)\n" if f.truncated else "")
        if len(text) > budget_chars:
            text = text[:budget_chars] + "\n(cut to the budget)\n"
        budget_chars -= len(text)
        first = f.hunks[0].new_start if f.hunks else 1
        last = max((h.new_start + h.new_lines - 1 for h in f.hunks), default=1)
        name = f"{f.old_path} -> {f.path}" if f.old_path else f.path
        out.append(Piece(f.path, max(first, 1), max(last, 1), "diff", f"{f.status}: {name}", text))
        if budget_chars <= 0:
            break
    return out


def commit_prompt(files: list[FileDiff], recent: list[Commit], ws: Workspace | None,
                  budget_chars: int = 40_000) -> tuple[str, list[Piece]]:
    """The user prompt for a commit message, and the pieces it shows."""
    pieces = diff_pieces(files, budget_chars)
    history = [Piece("", 0, 0, "history", "recent commit subjects (style)", "\n".join(c.subject for c in recent))
               ] if recent else []
    definitions = touched_definitions(ws, files) if ws is not None else []
    parts = ["Staged changes:"]
    parts += [f"--- {p.reason}\n{p.text}" for p in pieces]
    if definitions:
        parts.append("Definitions the change touches: " + ", ".join(name for _path, name, _line in definitions[:30]))
    if history:
        parts.append("Recent commit subjects of this project:\n" + history[0].text)
    parts.append("Write the commit message.")
    return "\n\n".join(parts), pieces + history


def touched_definitions(ws: Workspace, files: list[FileDiff]) -> list[tuple[str, str, int]]:
    """(path, qualified name, 1-based line) of the indexed definitions a diff's new-side hunks overlap,
    innermost first."""
    from ..errors import NotFoundError

    out: list[tuple[str, str, int]] = []
    for f in files:
        if f.binary or not f.hunks:
            continue
        try:
            symbols = ws.symbols(f.path)
        except NotFoundError:  # not indexed (a new, unsaved or unsupported file)
            continue
        for sym in sorted(symbols, key=lambda s: -s.depth):
            for h in f.hunks:
                lo, hi = h.new_start - 1, h.new_start + max(h.new_lines, 1) - 2
                if sym.span.start_line <= hi and lo <= sym.span.end_line:
                    out.append((f.path, sym.qualified_name, sym.span.start_line + 1))
                    break
    return list(dict.fromkeys(out))


def review_prompt(files: list[FileDiff], ws: Workspace | None, graph: CodeGraph | None, ref: str,
                  budget_chars: int = 60_000) -> tuple[str, list[Piece]]:
    """The user prompt for a review of ``files`` (the diff against ``ref``) with its graph neighbourhood."""
    pieces = diff_pieces(files, budget_chars * 2 // 3)
    left = budget_chars - sum(len(p.text) for p in pieces)
    context: list[Piece] = []
    if ws is not None and graph is not None:
        changed = {f.path for f in files}
        for path, name, _line in touched_definitions(ws, files)[:20]:
            short = name.rsplit(".", 1)[-1]
            try:
                callers = graph.callers(short, limit=5)
            except NexusError:  # no definition by that name in the graph yet
                continue
            for edge in callers:
                if edge.path in changed and edge.path == path:
                    continue
                piece = _caller_piece(ws, edge.path, edge.line, short)
                if piece is not None and len(piece.text) <= left:
                    context.append(piece)
                    left -= len(piece.text)
    parts = [f"The change (against {ref}):"]
    parts += [f"--- {p.path} ({p.reason})\n{p.text}" for p in pieces]
    if context:
        parts.append("Code that calls what the change touches (its graph neighbourhood):")
        parts += [f"--- {p.path}:{p.start_line}-{p.end_line} ({p.reason})\n{p.text}" for p in context]
    parts.append("Review the change.")
    return "\n\n".join(parts), pieces + context


def _caller_piece(ws: Workspace, path: str, line: int, name: str) -> Piece | None:
    from ..errors import NotFoundError

    try:
        chunks = ws.chunks(path)
        text = ws.text(path)
    except NotFoundError:
        return None
    lines = text.splitlines()
    for chunk in chunks:
        if chunk.start_line <= line <= chunk.end_line:
            start, end = chunk.start_line, min(chunk.end_line, chunk.start_line + 60)
            numbered = "".join(f"{i + 1}: {lines[i]}\n" for i in range(start, min(end + 1, len(lines))))
            return Piece(path, start + 1, end + 1, "caller", f"calls {name}", numbered)
    return None


def parse_findings(text: str, known: set[str] | None = None) -> list[Finding]:
    """The ``path:line: severity: message`` lines of a review (``known``: keep only these paths)."""
    out = []
    for raw in text.splitlines():
        match = _FINDING.match(raw)
        if match is None:
            continue
        path = match["path"].lstrip("./")
        if known is not None and path not in known:
            continue
        severity = (match["severity"] or "warning").lower().replace("note", "info")
        out.append(Finding(path, int(match["line"]), severity, match["message"].strip()))
    return out
