"""textDocument/completion and completionItem/resolve.

Python asks jedi first, within a latency budget; when jedi is late (a parameter type searched for in
every call site can take seconds) the answer comes from the syntax tree and the index and is marked
incomplete, so the client asks again on the next keystroke. Other languages answer from the tree and
the index directly.

jedi's answer for ``obj.pre|`` depends on what comes before the word being typed, not on the word:
requests whose document differs only in that word (the next keystrokes) share one jedi job, in flight
or finished, and filter its names by the longer prefix the way jedi would. So the answer that was late
for the first keystroke is there for the next one, without starting jedi over.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types

from nexus.engine.completion import Candidate, complete, context_at
from nexus.engine.errors import NexusError
from nexus.engine.python_semantics import PyCompletion, PythonSemantics
from nexus.engine.source import SourceFile

from ..convert import completion_kind, markdown
from ..documents import Document
from ..server import NexusServer

log = logging.getLogger(__name__)

BUDGET = 0.02  # seconds jedi gets before the index answers (its answer still serves the next keystrokes)
MAX_ITEMS = 500
SHARED = 16  # completion contexts remembered


@dataclass(eq=False)
class _Shared:
    prefix: str  # the prefix jedi completed; its names cover every longer prefix
    future: Future[list[PyCompletion]]
    root: str
    waiters: int = 0


def register(server: NexusServer) -> None:
    contexts: OrderedDict[tuple[object, ...], _Shared] = OrderedDict()

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(
        trigger_characters=[".", ">", ":"], resolve_provider=True))
    async def completion(ls: NexusServer, params: types.CompletionParams) -> types.CompletionList:
        doc = ls.document(params.text_document.uri)
        lines = doc.lines
        if not lines.in_range(params.position):
            return types.CompletionList(is_incomplete=False, items=[])
        row, col = lines.row_col(params.position)
        source = doc.source
        prefix, _member, start = context_at(source, row, col)
        edit_range = types.Range(lines.position_at(start), lines.position_at(lines.point_offset(row, col)))
        if doc.language == "python" and doc.path is not None:
            semantics = ls.semantics(doc)
            if semantics is not None:
                shared = _shared_job(contexts, semantics, doc, source, row, col, prefix, start)
                # The index answer is prepared alongside, so a late jedi costs the budget and no more.
                index = None if shared.future.done() else asyncio.ensure_future(
                    ls.offload(_fallback, ls, doc, row, col))
                shared.waiters += 1
                try:
                    found = await ls.python(shared.future, ls.budget("completion", BUDGET),
                                            stop_on_cancel=lambda: shared.waiters <= 1)
                except asyncio.CancelledError:
                    if index is not None:
                        index.cancel()
                    raise
                finally:
                    shared.waiters -= 1
                if found is None:
                    fallback = await (index if index is not None else ls.offload(_fallback, ls, doc, row, col))
                    if not shared.future.done() or shared.future.cancelled() or shared.future.exception():
                        return types.CompletionList(is_incomplete=True,
                                                    items=_items(fallback, edit_range, doc.language))
                    found = shared.future.result()  # finished while the fallback ran
                elif index is not None:
                    index.cancel()
                names = found if prefix == shared.prefix else _narrow(found, prefix)
                items = [types.CompletionItem(
                    label=c.name, kind=completion_kind(c.kind), sort_text=f"{i:05d}",
                    text_edit=types.TextEdit(edit_range, c.name), data={"py": c.key, "root": shared.root})
                    for i, c in enumerate(names[:MAX_ITEMS])]
                return types.CompletionList(is_incomplete=len(names) > MAX_ITEMS, items=items)
        folder = ls.folder_of(doc)
        ws = folder.ws if folder is not None else None
        found_index = await ls.offload(_fallback, ls, doc, row, col)
        return types.CompletionList(is_incomplete=ws is not None and folder is not None and folder.state != "ready",
                                    items=_items(found_index, edit_range, doc.language))

    @server.feature(types.COMPLETION_ITEM_RESOLVE)
    async def completion_item_resolve(ls: NexusServer, item: types.CompletionItem) -> types.CompletionItem:
        data = item.data if isinstance(item.data, dict) else {}
        key = data.get("py")
        if not isinstance(key, int) or isinstance(key, bool):
            return item
        semantics = next((f.python(ls.jedi) for f in ls.folders if str(f.root) == data.get("root")), None)
        if semantics is None:
            semantics = ls._loose_python.get(Path(str(data.get("root"))))
        if semantics is None:
            return item
        resolved = await ls.python(semantics.resolve(key), ls.budget("resolve", 2.0))
        if resolved is not None:
            signature, doc = resolved
            if signature or doc:
                item.documentation = markdown(signature, doc, "python")
                if signature and not item.detail:
                    item.detail = signature.splitlines()[0]
        return item


def _shared_job(contexts: OrderedDict[tuple[object, ...], _Shared], semantics: PythonSemantics, doc: Document,
                source: SourceFile, row: int, col: int, prefix: str, start: int) -> _Shared:
    """The jedi job answering this context: one in flight or finished for an earlier keystroke whose
    prefix this one extends, else a new one."""
    data = source.data
    end = start
    while end < len(data) and (data[end] >= 0x80 or chr(data[end]).isalnum() or data[end] in b"_$"):
        end += 1
    key = (doc.uri, row, start, len(data) - (end - start), hash(data[:start] + data[end:]))
    found = contexts.get(key)
    if found is not None and prefix.lower().startswith(found.prefix.lower()) and not found.future.cancelled() \
            and not (found.future.done() and found.future.exception() is not None):
        contexts.move_to_end(key)
        return found
    assert doc.path is not None
    shared = _Shared(prefix, semantics.complete(str(doc.path), doc.text, row, col), str(semantics.root))
    contexts[key] = shared
    while len(contexts) > SHARED:
        contexts.popitem(last=False)
    return shared


def _narrow(found: list[PyCompletion], prefix: str) -> list[PyCompletion]:
    """jedi's own filter and order for ``prefix`` (case-insensitive start, exact-case starts first)."""
    lowered = prefix.lower()
    kept = [c for c in found if c.name.lower().startswith(lowered)]
    return sorted(kept, key=lambda c: (not c.name.startswith(prefix), c.name.startswith("__"),
                                       c.name.startswith("_"), c.name.lower()))


def _fallback(ls: NexusServer, doc: Document, row: int, col: int) -> list[Candidate]:
    folder = ls.folder_of(doc)
    ws = folder.ws if folder is not None else None
    indexed = None
    if ws is not None and doc.rel and not Path(doc.rel).is_absolute():
        try:
            indexed = ws.symbols(doc.rel)  # at most a debounce behind the buffer
        except NexusError:
            indexed = None  # not indexed (yet): the buffer's own symbols are extracted
    return complete(ws, doc.source, row, col, indexed)


def _items(found: list[Candidate], edit_range: types.Range, language: str | None) -> list[types.CompletionItem]:
    out = []
    for index, candidate in enumerate(found):
        documentation = markdown(candidate.detail, candidate.doc, language) if candidate.doc else None
        out.append(types.CompletionItem(
            label=candidate.label, kind=completion_kind(candidate.kind), detail=candidate.detail or None,
            documentation=documentation, sort_text=f"{candidate.sort_group}{index:05d}",
            text_edit=types.TextEdit(edit_range, candidate.label)))
    return out
