"""The seam every semantic feature asks: one ``Semantics`` per language backend, plus the index for all.

A backend (jedi in its worker process, a language server run as a subprocess, the index) answers in
the client's terms: lsprotocol values with positions in the negotiated encoding and URIs the client
knows, so whatever a backend speaks is translated inside it and features never see the difference.
A method returns None when the backend has no answer; it raises :class:`BackendUnavailable` when it
cannot answer at all (crashed, switched off, the document is too large for it). Which backend is asked,
how long it gets and what the index does meanwhile is decided by the combinator (``ask``), from the
table in ``policy``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from lsprotocol import types

from nexus.engine.errors import NexusError

if TYPE_CHECKING:
    from ..documents import Document
    from ..folders import Folder

T = TypeVar("T")


class BackendUnavailable(NexusError):
    """The backend cannot answer this request (not installed, crashed, starting, off): the index does."""


@dataclass(frozen=True, slots=True)
class Query:
    """One request about a position in a document."""

    doc: Document
    position: types.Position  # as the client sent it (its encoding)
    row: int  # the engine's row and UTF-8 byte column of the same position
    col: int
    folder: Folder | None
    extra: Any = None  # the feature's own argument: definition mode, includeDeclaration, new name


@dataclass(frozen=True, slots=True)
class Exact(Generic[T]):
    """An index answer the file's scopes settle exactly (a parameter, a local): what any backend
    would say, so it need not be waited for (policy ``exact_index_wins``)."""

    value: T


class Semantics(Protocol):
    """What a semantic backend answers. Every method is a coroutine; the combinator may cancel it
    (``CancelledError``: the request was cancelled, so stop the work) or abandon it
    (``CancelledError("abandoned")``: the index answered; the work may finish and fill a cache)."""

    name: str

    def ready(self, doc: Document) -> bool:
        """False while the backend is starting or has given up: the index answers at once meanwhile."""
        ...

    def opened(self, doc: Document) -> None:
        """A document was opened: warm up for it (its module, its imports)."""
        ...

    def start(self, folder: Folder) -> None:
        """A workspace folder is open: start now, so the first request after opening a file does not
        wait for the backend to start (jedi's first inference alone takes 0.6-1.9 s)."""
        ...

    def status(self) -> dict[str, Any]:
        ...

    async def completion(self, q: Query) -> types.CompletionList | None: ...

    async def resolve(self, item: types.CompletionItem) -> types.CompletionItem | None: ...

    async def definition(self, q: Query) -> list[types.Location] | Exact[list[types.Location]] | None: ...

    async def declaration(self, q: Query) -> list[types.Location] | Exact[list[types.Location]] | None: ...

    async def type_definition(self, q: Query) -> list[types.Location] | None: ...

    async def hover(self, q: Query) -> types.Hover | None: ...

    async def signature_help(self, q: Query) -> types.SignatureHelp | None: ...

    async def references(self, q: Query) -> list[types.Location] | None: ...

    async def highlight(self, q: Query) -> list[types.DocumentHighlight] | None: ...

    async def prepare_rename(self, q: Query) -> types.PrepareRenamePlaceholder | None: ...

    async def rename(self, q: Query) -> types.WorkspaceEdit | None: ...


ABANDONED = "abandoned"


def abandoned(exc: BaseException) -> bool:
    """Whether a CancelledError means "the index answered" rather than "the request was cancelled"."""
    return bool(exc.args) and exc.args[0] == ABANDONED
