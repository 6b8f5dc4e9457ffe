"""The index behind the ``Semantics`` protocol: every language, by name, scope and import.

The answers come from the document's syntax tree (unsaved text counts) and the workspace index
(``engine.navigation``, ``engine.completion``); all the work runs in the query pool, never on the
event loop. It has no type inference, so it cannot answer a type definition or a signature. A
definition the file's own scopes settle (a parameter, a local, and for a declaration the import) is
marked :class:`Exact`: a backend could only say the same.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from nexus.engine.completion import Candidate, complete, context_at
from nexus.engine.errors import NexusError
from nexus.engine.navigation import Navigator

from ..convert import completion_kind, markdown
from ..locate import Locator
from .jedi import edit_of
from .protocol import Exact, Query

if TYPE_CHECKING:
    from ..documents import Document
    from ..folders import Folder
    from ..server import NexusServer

log = logging.getLogger(__name__)


class IndexSemantics:
    name = "index"

    def __init__(self, ls: NexusServer) -> None:
        self.ls = ls

    def ready(self, doc: Document) -> bool:
        return True

    def opened(self, doc: Document) -> None:
        return None  # sync indexes the buffer

    def start(self, folder: Folder) -> None:
        return None  # the folder's index opens with it

    def status(self) -> dict[str, Any]:
        return {}

    # -- completion --------------------------------------------------------------------------------

    async def completion(self, q: Query) -> types.CompletionList | None:
        doc, lines = q.doc, q.doc.lines
        _prefix, _member, start = context_at(doc.source, q.row, q.col)
        edit_range = types.Range(lines.position_at(start), lines.position_at(lines.point_offset(q.row, q.col)))
        found = await self.ls.offload(self.candidates, doc, q.row, q.col)
        folder = q.folder
        # While the folder is still being indexed, more names are coming: the client should ask again.
        incomplete = folder is not None and folder.ws is not None and folder.state != "ready"
        return types.CompletionList(is_incomplete=incomplete, items=items_of(found, edit_range, doc.language))

    def candidates(self, doc: Document, row: int, col: int) -> list[Candidate]:
        folder = self.ls.folder_of(doc)
        ws = folder.ws if folder is not None else None
        indexed = None
        if ws is not None and doc.rel and not Path(doc.rel).is_absolute():
            try:
                indexed = ws.symbols(doc.rel)  # at most a debounce behind the buffer
            except NexusError:
                indexed = None  # not indexed (yet): the buffer's own symbols are extracted
        return complete(ws, doc.source, row, col, indexed)

    async def resolve(self, item: types.CompletionItem) -> types.CompletionItem | None:
        return None  # index items carry their documentation already

    # -- go to -------------------------------------------------------------------------------------

    async def _locate(self, q: Query, mode: str) -> list[types.Location] | Exact[list[types.Location]]:
        def search() -> list[types.Location] | Exact[list[types.Location]]:
            # Other buffers' unsaved text only matters to references; definitions read the index.
            navigator = Navigator(q.folder.ws if q.folder else None, q.doc.source, symbols=False)
            locator = Locator(self.ls, q.folder, q.doc)
            local = navigator.local_definition(q.row, q.col, follow_imports=mode == "definition")
            targets = local if local is not None else navigator.definitions(q.row, q.col)
            found = [locator.location(t.path, t.span) for t in targets]
            return Exact(found) if local is not None else found

        return await self.ls.offload(search)

    async def definition(self, q: Query) -> list[types.Location] | Exact[list[types.Location]]:
        return await self._locate(q, "definition")

    async def declaration(self, q: Query) -> list[types.Location] | Exact[list[types.Location]]:
        return await self._locate(q, "declaration")

    async def type_definition(self, q: Query) -> list[types.Location] | None:
        return None  # no types in the index

    async def signature_help(self, q: Query) -> types.SignatureHelp | None:
        return None

    # -- names -------------------------------------------------------------------------------------

    async def references(self, q: Query) -> list[types.Location] | None:
        folder, include = q.folder, bool(q.extra)

        def search() -> list[types.Location]:
            navigator = Navigator(folder.ws if folder else None, q.doc.source, self.ls.sources(folder))
            locator = Locator(self.ls, folder, q.doc)
            return [locator.location(o.path, o.span) for o in navigator.references(q.row, q.col, include)]

        return await self.ls.offload(search)

    async def highlight(self, q: Query) -> list[types.DocumentHighlight] | None:
        folder, doc = q.folder, q.doc
        found = await self.ls.offload(lambda: Navigator(folder.ws if folder else None, doc.source).highlights(q.row, q.col))
        return [types.DocumentHighlight(doc.lines.range(o.span), types.DocumentHighlightKind.Write if o.is_definition
                                        else types.DocumentHighlightKind.Read) for o in found]

    async def hover(self, q: Query) -> types.Hover | None:
        folder, doc = q.folder, q.doc
        word = doc.source.word_at(q.row, q.col)
        if word is None:
            return None
        targets = await self.ls.offload(lambda: Navigator(folder.ws if folder else None, doc.source,
                                                          self.ls.sources(folder)).definitions(q.row, q.col))
        if not targets:
            return None
        word_range = doc.lines.range_of_offsets(*word)
        target = targets[0]
        if target.symbol is not None:
            symbol = target.symbol
            head = symbol.signature or symbol.name
            where = f"*{symbol.kind}*" + (f" in `{symbol.container}`" if symbol.container else "") + \
                (f" · {target.path}" if target.path != doc.rel else "")
            body = "\n\n".join(p for p in (where, symbol.doc) if p)
            return types.Hover(markdown(head, body, doc.language), word_range)
        return types.Hover(markdown(target.line_text, "", doc.language), word_range)

    async def prepare_rename(self, q: Query) -> types.PrepareRenamePlaceholder | None:
        folder, doc = q.folder, q.doc
        word = doc.source.word_at(q.row, q.col)
        if word is None:
            return None
        targets = await self.ls.offload(lambda: Navigator(folder.ws if folder else None, doc.source,
                                                          self.ls.sources(folder)).definitions(q.row, q.col))
        if not targets:
            return None
        placeholder = doc.source.data[word[0]:word[1]].decode("utf-8", "replace")
        return types.PrepareRenamePlaceholder(doc.lines.range_of_offsets(*word), placeholder)

    async def rename(self, q: Query) -> types.WorkspaceEdit | None:
        locations = await self.references(Query(q.doc, q.position, q.row, q.col, q.folder, True))
        return edit_of(locations or [], str(q.extra))


def items_of(found: list[Candidate], edit_range: types.Range, language: str | None) -> list[types.CompletionItem]:
    out = []
    for index, candidate in enumerate(found):
        documentation = markdown(candidate.detail, candidate.doc, language) if candidate.doc else None
        out.append(types.CompletionItem(
            label=candidate.label, kind=completion_kind(candidate.kind), detail=candidate.detail or None,
            documentation=documentation, sort_text=f"{candidate.sort_group}{index:05d}",
            text_edit=types.TextEdit(edit_range, candidate.label)))
    return out
