"""Python semantics from jedi (in its worker process) behind the ``Semantics`` protocol.

jedi speaks rows and UTF-8 byte columns through ``PythonSemantics``; this module turns its answers
into lsprotocol values in the client's encoding. Waiting is the combinator's business: each method
awaits its job as long as it is let, and stops the job when the request is cancelled (dropped if
queued, interrupted if running) or merely abandons it when the index answered instead (the job may
finish and fill jedi's caches, unless a newer request needs the worker).

jedi's answer for ``obj.pre|`` depends on what comes before the word being typed, not on the word:
completions whose document differs only in that word (the next keystrokes) share one jedi job, in
flight or finished, and filter its names by the longer prefix the way jedi would. So the answer that
was late for the first keystroke is there for the next one, without starting jedi over.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lsprotocol import types

from nexus.engine.completion import context_at
from nexus.engine.errors import NexusError
from nexus.engine.model import Span
from nexus.engine.python_semantics import PyCompletion, PyName, PythonSemantics

from ..convert import completion_kind, markdown
from ..locate import py_location
from .protocol import BackendUnavailable, Query, abandoned

if TYPE_CHECKING:
    from ..documents import Document
    from ..folders import Folder
    from ..server import NexusServer

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_ITEMS = 500
SHARED = 16  # completion contexts remembered
REMEMBERED = 32  # go-to jobs remembered per position (asking again gets a late answer)


@dataclass(eq=False)
class _Shared:
    prefix: str  # the prefix jedi completed; its names cover every longer prefix
    future: Future[list[PyCompletion]]
    root: str
    waiters: int = 0


class JediSemantics:
    name = "jedi"

    def __init__(self, ls: NexusServer) -> None:
        self.ls = ls
        self._contexts: OrderedDict[tuple[object, ...], _Shared] = OrderedDict()
        self._gotos: OrderedDict[tuple[object, ...], Future[list[PyName]]] = OrderedDict()

    # -- the protocol's plumbing -----------------------------------------------------------------

    def _python(self, doc: Document) -> PythonSemantics:
        semantics = self.ls.semantics(doc) if doc.path is not None else None
        if semantics is None:
            raise BackendUnavailable("jedi does not serve this document (too large, untitled, or its "
                                     "environment is unusable: see the log)")
        return semantics

    def ready(self, doc: Document) -> bool:
        if doc.path is None or doc.too_large:
            return False
        return not (self.ls.jedi_started and self.ls.jedi.status()["error"])

    def opened(self, doc: Document) -> None:
        if self.ready(doc):
            try:
                future = self._python(doc).parse(str(doc.path), doc.text)
            except BackendUnavailable:
                return
            future.add_done_callback(_quiet)

    def start(self, folder: Folder) -> None:
        folder.python(self.ls.jedi)  # starts the worker and its warm-up (builtins, common stubs)

    def status(self) -> dict[str, Any]:
        return self.ls.jedi.status() if self.ls.jedi_started else {"running": None, "pid": None}

    async def _wait(self, future: Future[T], stop_on_cancel: Callable[[], bool] = lambda: True) -> T:
        """The job's result; cancelled: stop it; abandoned: let it finish unless a newer request needs
        the worker. jedi's own failures (a JediError, an interrupted job) become BackendUnavailable."""
        wrapped = asyncio.wrap_future(future)
        wrapped.add_done_callback(_quiet)
        try:
            return await asyncio.shield(wrapped)
        except asyncio.CancelledError as exc:
            if abandoned(exc):
                self.ls.jedi.abandon(future)
            elif stop_on_cancel():
                self.ls.jedi.interrupt(future, "request cancelled")
            raise
        except NexusError as exc:
            raise BackendUnavailable(str(exc)) from exc

    # -- features ----------------------------------------------------------------------------------

    async def completion(self, q: Query) -> types.CompletionList | None:
        doc, lines = q.doc, q.doc.lines
        semantics = self._python(doc)
        prefix, _member, start = context_at(doc.source, q.row, q.col)
        edit_range = types.Range(lines.position_at(start), lines.position_at(lines.point_offset(q.row, q.col)))
        shared = self._shared_job(semantics, doc, q.row, q.col, prefix, start)
        shared.waiters += 1
        try:
            found = await self._wait(shared.future, stop_on_cancel=lambda: shared.waiters <= 1)
        finally:
            shared.waiters -= 1
        names = found if prefix == shared.prefix else _narrow(found, prefix)
        items = [types.CompletionItem(
            label=c.name, kind=completion_kind(c.kind), sort_text=f"{i:05d}",
            text_edit=types.TextEdit(edit_range, c.name), data={"py": c.key, "root": shared.root})
            for i, c in enumerate(names[:MAX_ITEMS])]
        return types.CompletionList(is_incomplete=len(names) > MAX_ITEMS, items=items)

    def _shared_job(self, semantics: PythonSemantics, doc: Document, row: int, col: int, prefix: str,
                    start: int) -> _Shared:
        """The jedi job answering this context: one in flight or finished for an earlier keystroke
        whose prefix this one extends, else a new one."""
        data = doc.source.data
        end = start
        while end < len(data) and (data[end] >= 0x80 or chr(data[end]).isalnum() or data[end] in b"_$"):
            end += 1
        key = (doc.uri, row, start, len(data) - (end - start), hash(data[:start] + data[end:]))
        found = self._contexts.get(key)
        if found is not None and prefix.lower().startswith(found.prefix.lower()) and not found.future.cancelled() \
                and not (found.future.done() and found.future.exception() is not None):
            self._contexts.move_to_end(key)
            return found
        shared = _Shared(prefix, semantics.complete(str(doc.path), doc.text, row, col), str(semantics.root))
        self._contexts[key] = shared
        while len(self._contexts) > SHARED:
            self._contexts.popitem(last=False)
        return shared

    async def resolve(self, item: types.CompletionItem) -> types.CompletionItem | None:
        data = item.data if isinstance(item.data, dict) else {}
        key = data.get("py")
        if not isinstance(key, int) or isinstance(key, bool):
            return None
        root = str(data.get("root"))
        semantics = next((f.python(self.ls.jedi) for f in self.ls.folders if str(f.root) == root), None)
        if semantics is None:
            semantics = self.ls._loose_python.get(Path(root))
        if semantics is None:
            return None
        signature, doc = await self._wait(semantics.resolve(key))
        if signature or doc:
            item.documentation = markdown(signature, doc, "python")
            if signature and not item.detail:
                item.detail = signature.splitlines()[0]
        return item

    async def _goto(self, q: Query, mode: str) -> list[types.Location] | None:
        doc = q.doc
        key = (doc.uri, len(doc.text), hash(doc.text), q.row, q.col, mode)
        job = self._gotos.get(key)
        if job is None or job.cancelled() or (job.done() and job.exception() is not None):
            job = self._gotos[key] = self._python(doc).goto(str(doc.path), doc.text, q.row, q.col, mode)
            while len(self._gotos) > REMEMBERED:
                self._gotos.popitem(last=False)
        names = await self._wait(job)
        return [loc for loc in (py_location(self.ls, doc, n) for n in names) if loc is not None]

    async def definition(self, q: Query) -> list[types.Location] | None:
        return await self._goto(q, "definition")

    async def declaration(self, q: Query) -> list[types.Location] | None:
        return await self._goto(q, "declaration")

    async def type_definition(self, q: Query) -> list[types.Location] | None:
        return await self._goto(q, "type")

    async def hover(self, q: Query) -> types.Hover | None:
        doc = q.doc
        word = doc.source.word_at(q.row, q.col)
        if word is None:
            return None
        found = await self._wait(self._python(doc).help(str(doc.path), doc.text, q.row, q.col))
        if found is None:
            return None
        _kind, head, docstring = found
        return types.Hover(markdown(head, docstring, "python"), doc.lines.range_of_offsets(*word))

    async def signature_help(self, q: Query) -> types.SignatureHelp | None:
        doc = q.doc
        found = await self._wait(self._python(doc).signatures(str(doc.path), doc.text, q.row, q.col))
        if not found:
            return None
        signatures = [types.SignatureInformation(
            label=s.label,
            documentation=types.MarkupContent(types.MarkupKind.Markdown, s.doc) if s.doc else None,
            parameters=[types.ParameterInformation(label=p) for p in s.params],
            active_parameter=s.active_param) for s in found]
        return types.SignatureHelp(signatures=signatures, active_signature=0, active_parameter=found[0].active_param)

    async def references(self, q: Query) -> list[types.Location] | None:
        doc = q.doc
        include = bool(q.extra)
        names = await self._wait(self._python(doc).references(str(doc.path), doc.text, q.row, q.col))
        found = [py_location(self.ls, doc, n) for n in names
                 if include or not n.description.startswith(("def ", "class "))]
        return [loc for loc in found if loc is not None]

    async def highlight(self, q: Query) -> list[types.DocumentHighlight] | None:
        doc = q.doc
        names = await self._wait(self._python(doc).references(str(doc.path), doc.text, q.row, q.col, file_only=True))
        return [types.DocumentHighlight(
            doc.lines.range(Span(n.line, n.col, n.line, n.end_col)),
            types.DocumentHighlightKind.Write if n.description.startswith(("def ", "class "))
            else types.DocumentHighlightKind.Read)
            for n in names if n.path == str(doc.path)]

    async def prepare_rename(self, q: Query) -> types.PrepareRenamePlaceholder | None:
        doc = q.doc
        word = doc.source.word_at(q.row, q.col)
        if word is None:
            return None
        name = await self._wait(self._python(doc).renameable(str(doc.path), doc.text, q.row, q.col))
        if name is None:
            return None
        placeholder = doc.source.data[word[0]:word[1]].decode("utf-8", "replace")
        return types.PrepareRenamePlaceholder(doc.lines.range_of_offsets(*word), placeholder)

    async def rename(self, q: Query) -> types.WorkspaceEdit | None:
        locations = await self.references(Query(q.doc, q.position, q.row, q.col, q.folder, True))
        return edit_of(locations or [], str(q.extra))


def edit_of(locations: list[types.Location], new_name: str) -> types.WorkspaceEdit | None:
    if not locations:
        return None
    changes: dict[str, list[types.TextEdit]] = {}
    unique = {(loc.uri, loc.range.start.line, loc.range.start.character): loc for loc in locations}
    for key in sorted(unique):
        location = unique[key]
        changes.setdefault(location.uri, []).append(types.TextEdit(location.range, new_name))
    return types.WorkspaceEdit(changes=changes)


def _narrow(found: list[PyCompletion], prefix: str) -> list[PyCompletion]:
    """jedi's own filter and order for ``prefix`` (case-insensitive start, exact-case starts first)."""
    lowered = prefix.lower()
    kept = [c for c in found if c.name.lower().startswith(lowered)]
    return sorted(kept, key=lambda c: (not c.name.startswith(prefix), c.name.startswith("__"),
                                       c.name.startswith("_"), c.name.lower()))


def _quiet(future: Any) -> None:
    """A job nobody waits for may fail (interrupted, superseded): expected, not "never retrieved"."""
    if not future.cancelled():
        future.exception()
