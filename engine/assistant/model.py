"""What the assistant is asked and what it answers, as plain values every face can build and serialise.

Positions are the engine's: zero-based rows and UTF-8 byte columns (tree-sitter points); adapters
convert their protocol's positions in and out. A request carries the *live* text of the document it is
about (unsaved edits included), so answers and edits are about what the user sees, not what was indexed.

    NexusError
     └── AssistantError ......... the request cannot be served as asked
          └── NoEditError ....... the model's answer holds no code to apply
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from nexus.engine.errors import NexusError
from nexus.engine.model import Span
from nexus.engine.providers import Role, Usage


class AssistantError(NexusError):
    pass


class NoEditError(AssistantError):
    pass


class Task(enum.StrEnum):
    """What the user asked for. Each task has its prompt, its token budget and its provider role."""

    CHAT = "chat"
    EXPLAIN = "explain"
    FIX = "fix"
    DOCSTRING = "docstring"
    TESTS = "tests"
    REFACTOR = "refactor"
    INLINE = "inline"

    @property
    def role(self) -> Role:
        if self in (Task.CHAT, Task.EXPLAIN):
            return Role.CHAT
        if self is Task.INLINE:
            return Role.INLINE
        return Role.EDIT

    @property
    def edits(self) -> bool:
        """True for the tasks whose answer is applied to the code."""
        return self in (Task.FIX, Task.DOCSTRING, Task.TESTS, Task.REFACTOR)

    @property
    def label(self) -> str:
        return _TITLES[self]


_TITLES = {Task.CHAT: "Ask", Task.EXPLAIN: "Explain", Task.FIX: "Fix this diagnostic",
           Task.DOCSTRING: "Add docstring", Task.TESTS: "Write tests", Task.REFACTOR: "Refactor",
           Task.INLINE: "Inline completion"}


@dataclass(frozen=True, slots=True)
class Document:
    """The live text of the file a request is about. ``path`` is workspace-relative when the file is in
    the workspace (it is then looked up in the index), else absolute."""

    path: str
    text: str
    language: str | None = None
    in_workspace: bool = True


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A problem the editor shows, as the fix action needs it."""

    message: str
    span: Span
    source: str = ""
    code: str = ""


@dataclass(frozen=True, slots=True)
class AssistRequest:
    """One assistant request. ``question`` is the user's words (chat) or an extra instruction (refactor).

    ``selection`` is the selected range (empty spans count as no selection); ``cursor`` a position;
    ``open_files`` the other files open in the editor (workspace-relative), which rank higher in retrieval;
    ``changed_files`` the working tree's uncommitted changes (git), which count as recently edited.
    """

    task: Task
    question: str = ""
    document: Document | None = None
    selection: Span | None = None
    cursor: tuple[int, int] | None = None
    diagnostic: Diagnostic | None = None
    open_files: tuple[str, ...] = ()
    provider: str | None = None
    model: str | None = None
    budget: int | None = None  # context tokens; None: the task's setting
    changed_files: tuple[str, ...] = ()

    @property
    def has_selection(self) -> bool:
        s = self.selection
        return s is not None and (s.start_line, s.start_col) != (s.end_line, s.end_col)


@dataclass(frozen=True, slots=True)
class ReceiptEntry:
    """One piece of what the model was shown: which file, which lines (zero-based, inclusive), why."""

    path: str
    start_line: int
    end_line: int
    kind: str
    reason: str
    tokens: int = 0

    def to_json(self) -> dict[str, Any]:
        """The context engine's receipt shape: 1-based ``lines`` like every CLI and gateway reply."""
        return {"path": self.path, "lines": [self.start_line + 1, self.end_line + 1], "kind": self.kind,
                "reason": self.reason, "tokens": self.tokens}

    def label(self) -> str:
        first, last = self.start_line + 1, self.end_line + 1
        where = self.path or "(repo map)"
        return f"{where}:{first}-{last}" if last > first else f"{where}:{first}"


@dataclass(frozen=True, slots=True)
class Answer:
    """A finished answer. ``generated`` is False for a retrieval-only answer (no provider configured):
    then ``provider`` and ``model`` are empty and ``usage`` is None."""

    text: str
    receipt: tuple[ReceiptEntry, ...]
    generated: bool
    provider: str = ""
    model: str = ""
    usage: Usage | None = None
    context_tokens: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "provider": self.provider, "model": self.model,
                "usage": self.usage.to_json() if self.usage else {}, "receipt": [e.to_json() for e in self.receipt],
                "generated": self.generated, "contextTokens": self.context_tokens}


@dataclass(frozen=True, slots=True)
class FileEdit:
    """Replace ``span`` of ``path`` with ``text``; ``span`` None with ``create`` makes a new file."""

    path: str
    text: str
    span: Span | None = None
    create: bool = False

    def to_json(self) -> dict[str, Any]:
        span = self.span
        where = None if span is None else {"start": [span.start_line, span.start_col],
                                           "end": [span.end_line, span.end_col]}
        return {"path": self.path, "text": self.text, "span": where, "create": self.create}


@dataclass(frozen=True, slots=True)
class EditProposal:
    """What an edit task produced: the edits to apply, the model's words around the code, the answer."""

    task: Task
    edits: tuple[FileEdit, ...]
    answer: Answer
    note: str = ""  # the answer's prose outside the code block, if any

    def to_json(self) -> dict[str, Any]:
        return {"task": self.task.value, "edits": [e.to_json() for e in self.edits], "note": self.note,
                **self.answer.to_json()}


@dataclass(frozen=True, slots=True)
class InlineSuggestion:
    """Text to insert at the cursor (ghost text)."""

    text: str
    receipt: tuple[ReceiptEntry, ...] = ()
    usage: Usage | None = None
    extra: dict[str, Any] = field(default_factory=dict)
