"""textDocument/prepareRename and rename: every reference of the name, as one workspace edit."""

from __future__ import annotations

import re

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from nexus.engine.navigation import Navigator

from ..server import NexusServer

BUDGET = 1.0
_IDENTIFIER = re.compile(r"^[^\W\d]\w*$|^[A-Za-z_$][\w$]*$", re.UNICODE)


def register(server: NexusServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
    async def prepare_rename(ls: NexusServer, params: types.PrepareRenameParams) -> types.PrepareRenamePlaceholder | None:
        doc = ls.document(params.text_document.uri)
        lines = doc.lines
        if not lines.in_range(params.position):
            return None
        row, col = lines.row_col(params.position)
        word = doc.source.word_at(row, col)
        if word is None:
            return None
        placeholder = doc.source.data[word[0]:word[1]].decode("utf-8", "replace")
        if doc.language == "python" and doc.path is not None:
            semantics = ls.semantics(doc)
            if semantics is not None:
                name = await ls.python(semantics.renameable(str(doc.path), doc.text, row, col), ls.budget("rename", BUDGET))
                if name is None:
                    raise JsonRpcInvalidParams(message=f"'{placeholder}' cannot be renamed here: it is not "
                                                       "defined in this workspace")
                return types.PrepareRenamePlaceholder(lines.range_of_offsets(*word), placeholder)
        folder = ls.folder_of(doc)
        targets = await ls.offload(lambda: Navigator(folder.ws if folder else None, doc.source,
                                                     ls.sources(folder)).definitions(row, col))
        if not targets:
            raise JsonRpcInvalidParams(message=f"'{placeholder}' cannot be renamed: no definition found")
        return types.PrepareRenamePlaceholder(lines.range_of_offsets(*word), placeholder)

    @server.feature(types.TEXT_DOCUMENT_RENAME, types.RenameOptions(prepare_provider=True))
    async def rename(ls: NexusServer, params: types.RenameParams) -> types.WorkspaceEdit | None:
        if not _IDENTIFIER.match(params.new_name):
            raise JsonRpcInvalidParams(message=f"'{params.new_name}' is not a valid identifier")
        handler = ls.protocol.fm.features[types.TEXT_DOCUMENT_REFERENCES]
        locations = await handler(types.ReferenceParams(
            text_document=params.text_document, position=params.position,
            context=types.ReferenceContext(include_declaration=True)))
        if not locations:
            return None
        changes: dict[str, list[types.TextEdit]] = {}
        for location in locations:
            changes.setdefault(location.uri, []).append(types.TextEdit(location.range, params.new_name))
        return types.WorkspaceEdit(changes=changes)
