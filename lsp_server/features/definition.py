"""textDocument/definition, declaration and typeDefinition.

Python: jedi (definition follows imports, declaration stops at them, type definition infers), within
a budget, with the scope- and import-aware index search as the fallback. The tree is asked first, while
jedi works: a parameter or a local (or, for a declaration, an import) is settled by the file's scopes
exactly as jedi would settle it, and answered at once. jedi's answer, even when it comes after the
budget, is kept for the same document text and position: asking again gets it.
Other languages: the index search (``engine.navigation``).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from concurrent.futures import Future

from lsprotocol import types

from nexus.engine.navigation import Navigator
from nexus.engine.python_semantics import PyName

from ..documents import Document
from ..folders import Folder
from ..locate import Locator, py_location
from ..server import NexusServer

BUDGET = 0.05
TYPE_BUDGET = 1.0  # no index fallback for a type: jedi gets longer
REMEMBERED = 32


def register(server: NexusServer) -> None:
    jobs: OrderedDict[tuple[object, ...], Future[list[PyName]]] = OrderedDict()

    async def locate(ls: NexusServer, params: types.TextDocumentPositionParams, mode: str) -> list[types.Location]:
        doc = ls.document(params.text_document.uri)
        if not doc.lines.in_range(params.position):
            return []
        row, col = doc.lines.row_col(params.position)
        folder = ls.folder_of(doc)
        if doc.language != "python" or doc.path is None or (semantics := ls.semantics(doc)) is None:
            return [] if mode == "type" else (await ls.offload(_search, ls, folder, doc, row, col, mode))[0]
        loop = asyncio.get_running_loop()
        started = loop.time()
        key = (doc.uri, len(doc.text), hash(doc.text), row, col, mode)
        job = jobs.get(key)
        if job is None or job.cancelled() or (job.done() and job.exception() is not None):
            job = jobs[key] = semantics.goto(str(doc.path), doc.text, row, col, mode)
            while len(jobs) > REMEMBERED:
                jobs.popitem(last=False)
        if mode == "type":
            names = await ls.python(job, ls.budget("typeDefinition", TYPE_BUDGET))
            return [loc for loc in (py_location(ls, doc, n) for n in names or ()) if loc is not None]
        try:
            found, exact = await ls.offload(_search, ls, folder, doc, row, col, mode)
        except asyncio.CancelledError:
            ls.jedi.interrupt(job, "request cancelled")
            raise
        if exact and not job.done():
            ls.jedi.abandon(job)  # a local or a parameter: jedi could only say the same
            return found
        names = await ls.python(job, max(0.0, ls.budget("definition", BUDGET) - (loop.time() - started)))
        located = [loc for loc in (py_location(ls, doc, n) for n in names or ()) if loc is not None]
        return located or found

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def definition(ls: NexusServer, params: types.DefinitionParams) -> list[types.Location]:
        return await locate(ls, params, "definition")

    @server.feature(types.TEXT_DOCUMENT_DECLARATION)
    async def declaration(ls: NexusServer, params: types.DeclarationParams) -> list[types.Location]:
        return await locate(ls, params, "declaration")

    @server.feature(types.TEXT_DOCUMENT_TYPE_DEFINITION)
    async def type_definition(ls: NexusServer, params: types.TypeDefinitionParams) -> list[types.Location]:
        return await locate(ls, params, "type")


def _search(ls: NexusServer, folder: Folder | None, doc: Document, row: int, col: int,
            mode: str) -> tuple[list[types.Location], bool]:
    """(locations from the tree and the index, whether the tree settled it exactly)."""
    # Other buffers' unsaved text only matters to references; definitions read the index.
    navigator = Navigator(folder.ws if folder else None, doc.source, symbols=False)
    locator = Locator(ls, folder, doc)
    local = navigator.local_definition(row, col, follow_imports=mode == "definition")
    targets = local if local is not None else navigator.definitions(row, col)
    return [locator.location(t.path, t.span) for t in targets], local is not None
