"""textDocument/completion and completionItem/resolve.

Python asks jedi first, within a latency budget; when jedi is late (a parameter type searched for in
every call site can take seconds) the answer comes from the syntax tree and the index and is marked
incomplete, so the client asks again on the next keystroke. Other languages answer from the tree and
the index directly.
"""

from __future__ import annotations

import logging

from lsprotocol import types

from nexus.engine.completion import Candidate, complete, context_at

from ..convert import completion_kind, markdown
from ..server import NexusServer

log = logging.getLogger(__name__)

BUDGET = 0.1  # seconds jedi gets before the index answers


def register(server: NexusServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(
        trigger_characters=[".", ">", ":"], resolve_provider=True))
    async def completion(ls: NexusServer, params: types.CompletionParams) -> types.CompletionList:
        doc = ls.document(params.text_document.uri)
        lines = doc.lines
        if not lines.in_range(params.position):
            return types.CompletionList(is_incomplete=False, items=[])
        row, col = lines.row_col(params.position)
        source = doc.source
        _prefix, _member, start = context_at(source, row, col)
        edit_range = types.Range(lines.position_at(start), lines.position_at(lines.point_offset(row, col)))
        if doc.language == "python" and doc.path is not None:
            semantics = ls.semantics(doc)
            if semantics is not None:
                found = await ls.python(semantics.complete(str(doc.path), doc.text, row, col), ls.budget("completion", BUDGET))
                if found is not None:
                    root = str(semantics.root)
                    items = [types.CompletionItem(
                        label=c.name, kind=completion_kind(c.kind), detail=c.detail or None,
                        sort_text=f"{i:05d}", text_edit=types.TextEdit(edit_range, c.name),
                        data={"py": c.key, "root": root}) for i, c in enumerate(found)]
                    return types.CompletionList(is_incomplete=False, items=items)
                fallback = await ls.offload(_fallback, ls, doc, row, col)
                return types.CompletionList(is_incomplete=True, items=_items(fallback, edit_range, doc.language))
        folder = ls.folder_of(doc)
        ws = folder.ws if folder is not None else None
        found_index = await ls.offload(complete, ws, source, row, col)
        return types.CompletionList(is_incomplete=ws is not None and folder is not None and folder.state != "ready",
                                    items=_items(found_index, edit_range, doc.language))

    @server.feature(types.COMPLETION_ITEM_RESOLVE)
    async def completion_item_resolve(ls: NexusServer, item: types.CompletionItem) -> types.CompletionItem:
        data = item.data if isinstance(item.data, dict) else {}
        key = data.get("py")
        if not isinstance(key, int):
            return item
        semantics = next((f.python() for f in ls.folders if str(f.root) == data.get("root")), None)
        if semantics is None:
            semantics = ls._loose_python.get(__import__("pathlib").Path(str(data.get("root"))))
        if semantics is None:
            return item
        resolved = await ls.python(semantics.resolve(key), 2.0)
        if resolved is not None:
            signature, doc = resolved
            if signature or doc:
                item.documentation = markdown(signature, doc, "python")
                if signature and not item.detail:
                    item.detail = signature.splitlines()[0]
        return item


def _fallback(ls: NexusServer, doc, row: int, col: int) -> list[Candidate]:  # type: ignore[no-untyped-def]
    folder = ls.folder_of(doc)
    return complete(folder.ws if folder is not None else None, doc.source, row, col)


def _items(found: list[Candidate], edit_range: types.Range, language: str | None) -> list[types.CompletionItem]:
    out = []
    for index, candidate in enumerate(found):
        documentation = markdown(candidate.detail, candidate.doc, language) if candidate.doc else None
        out.append(types.CompletionItem(
            label=candidate.label, kind=completion_kind(candidate.kind), detail=candidate.detail or None,
            documentation=documentation, sort_text=f"{candidate.sort_group}{index:05d}",
            text_edit=types.TextEdit(edit_range, candidate.label)))
    return out
