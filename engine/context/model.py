"""What a context is: a request, the pieces chosen for it, and the errors a caller can act on.

    NexusError
     ├── ContextError            a context cannot be built or used as asked
     │    ├── BudgetError        budget of 0, negative, or above MAX_BUDGET
     │    ├── ContextTooLarge    uploaded content above the size limit (nothing is stored)
     │    └── ContextCorrupt     a stored context fails its checksums (it is left in place)
     └── NotFoundError
          └── ContextNotFound    unknown or expired context id
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from ..errors import NexusError, NotFoundError

MAX_BUDGET = 1_000_000
DEFAULT_BUDGET = 8_000

# Stability classes, most stable first: the order pieces appear in, so that two requests about the
# same code share a long common prefix and a provider's prompt cache hits.
STABILITY = {"file": 0, "definition": 1, "repomap": 2, "chunk": 3, "cursor": 4, "upload": 5}


class ContextError(NexusError):
    pass


class BudgetError(ContextError):
    pass


class ContextTooLarge(ContextError):
    pass


class ContextCorrupt(ContextError):
    pass


class ContextNotFound(NotFoundError):
    pass


def check_budget(budget: int, maximum: int = MAX_BUDGET) -> int:
    if isinstance(budget, bool) or not isinstance(budget, int):
        raise BudgetError(f"the token budget must be a whole number, not {budget!r}")
    if budget <= 0:
        raise BudgetError(f"the token budget must be at least 1 (got {budget})")
    if budget > maximum:
        raise BudgetError(f"the token budget is at most {maximum:,} tokens (got {budget:,})")
    return budget


@dataclass(frozen=True, slots=True)
class ContextRequest:
    """What a context is for. Lines and columns are zero-based, like every engine position."""

    query: str = ""
    path: str | None = None  # the current file
    line: int | None = None  # the cursor
    column: int = 0
    open_files: tuple[str, ...] = ()
    recent_files: tuple[str, ...] = ()  # most recent first
    budget: int = DEFAULT_BUDGET
    model: str | None = None  # picks the tokenizer
    repo_map: bool = True
    use_mtime: bool = True  # files edited in the last day count as recent

    def to_json(self) -> dict[str, Any]:
        return {"query": self.query, "path": self.path, "line": self.line, "column": self.column,
                "openFiles": list(self.open_files), "recentFiles": list(self.recent_files),
                "budget": self.budget, "model": self.model, "repoMap": self.repo_map}

    @classmethod
    def from_json(cls, data: Any) -> ContextRequest:
        """Parse the JSON shape of :meth:`to_json` (what the gateway and the Jupyter extension receive).

        Raises ContextError naming the first bad field, BudgetError for a bad budget.
        """
        if not isinstance(data, dict):
            raise ContextError("a context request must be a JSON object")
        unknown = set(data) - _REQUEST_FIELDS.keys()
        if unknown:
            raise ContextError(f"unknown context request field(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for key, value in data.items():
            name, kind = _REQUEST_FIELDS[key]
            if value is None and kind in (str, int) and name in ("path", "line", "model"):
                continue
            if kind is tuple:
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ContextError(f"{key} must be a list of paths")
                value = tuple(value)
            elif kind is int and (isinstance(value, bool) or not isinstance(value, int)):
                raise ContextError(f"{key} must be a whole number")
            elif not isinstance(value, kind):
                raise ContextError(f"{key} must be a {kind.__name__}")
            values[name] = value
        request = cls(**values)
        check_budget(request.budget)
        if request.line is not None and (request.line < 0 or request.path is None):
            raise ContextError("line must be >= 0 and needs a path")
        return request


_REQUEST_FIELDS: dict[str, tuple[str, type]] = {
    "query": ("query", str), "path": ("path", str), "line": ("line", int), "column": ("column", int),
    "openFiles": ("open_files", tuple), "recentFiles": ("recent_files", tuple), "budget": ("budget", int),
    "model": ("model", str), "repoMap": ("repo_map", bool), "useMtime": ("use_mtime", bool),
}


@dataclass(frozen=True, slots=True)
class Piece:
    """One contiguous piece of source (or of uploaded text) and why it is in the context."""

    path: str  # "" for the repo map and uploads
    start_line: int  # zero-based, inclusive
    end_line: int
    kind: str  # file, definition, repomap, chunk, cursor, upload
    reason: str
    score: float
    text: str
    tokens: int = 0
    digest: str = field(default="", compare=False)

    @property
    def hash(self) -> str:
        """Identity for deduplication when contexts are merged: the same text from the same place."""
        if self.digest:
            return self.digest
        key = f"{self.kind}\0{self.path}\0{self.start_line}\0{self.text}"
        return hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()

    def render(self) -> str:
        """The piece as a model sees it. Only stable facts (path, lines) go in the header: the reason
        varies between requests and would defeat prompt caching, so it stays in the receipt."""
        if self.kind == "upload":
            return self.text
        body = self.text if self.text.endswith("\n") else self.text + "\n"
        if self.kind == "repomap":
            return f"<repomap>\n{body}</repomap>\n"
        path = self.path.replace("&", "&amp;").replace('"', "&quot;")
        return f'<piece path="{path}" lines="{self.start_line + 1}-{self.end_line + 1}">\n{body}</piece>\n'

    def receipt(self) -> dict[str, Any]:
        return {"path": self.path, "lines": [self.start_line + 1, self.end_line + 1], "kind": self.kind,
                "reason": self.reason, "tokens": self.tokens}

    def to_json(self, text: bool = True) -> dict[str, Any]:
        out = {"path": self.path, "startLine": self.start_line + 1, "endLine": self.end_line + 1,
               "kind": self.kind, "reason": self.reason, "score": round(self.score, 6), "tokens": self.tokens,
               "hash": self.hash}
        if text:
            out["text"] = self.text
        return out


@dataclass(frozen=True, slots=True)
class Context:
    pieces: tuple[Piece, ...]
    budget: int
    token_count: int
    tokenizer: str  # encoding name, or "estimate"
    exact: bool
    request: ContextRequest | None = None

    def text(self) -> str:
        return "".join(p.render() for p in self.pieces)

    def receipt(self) -> list[dict[str, Any]]:
        """Files, line ranges (1-based) and why: what to show a user next to an answer."""
        return [p.receipt() for p in self.pieces]

    def to_json(self, text: bool = False) -> dict[str, Any]:
        return {"budget": self.budget, "tokenCount": self.token_count, "tokenizer": self.tokenizer,
                "exact": self.exact, "pieces": [p.to_json(text) for p in self.pieces],
                "request": self.request.to_json() if self.request else None}
