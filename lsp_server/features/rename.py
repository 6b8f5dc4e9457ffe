"""textDocument/prepareRename and rename, through the semantic seam: every reference of the name, as
one workspace edit."""

from __future__ import annotations

import re

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from ..server import NexusServer

_IDENTIFIER = re.compile(r"^[^\W\d]\w*$|^[A-Za-z_$][\w$]*$", re.UNICODE)


def register(server: NexusServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
    async def prepare_rename(ls: NexusServer, params: types.PrepareRenameParams) -> types.PrepareRenamePlaceholder | None:
        q = ls.query(ls.document(params.text_document.uri), params.position)
        if q is None:
            return None
        word = q.doc.source.word_at(q.row, q.col)
        if word is None:
            return None
        outcome = await ls.ask("prepareRename", q)
        if isinstance(outcome.value, types.PrepareRenamePlaceholder):
            return outcome.value
        placeholder = q.doc.source.data[word[0]:word[1]].decode("utf-8", "replace")
        why = "no definition found" if outcome.source in ("index", "") else "it is not defined in this workspace"
        raise JsonRpcInvalidParams(message=f"'{placeholder}' cannot be renamed here: {why}")

    @server.feature(types.TEXT_DOCUMENT_RENAME, types.RenameOptions(prepare_provider=True))
    async def rename(ls: NexusServer, params: types.RenameParams) -> types.WorkspaceEdit | None:
        if not _IDENTIFIER.match(params.new_name):
            raise JsonRpcInvalidParams(message=f"'{params.new_name}' is not a valid identifier")
        q = ls.query(ls.document(params.text_document.uri), params.position, params.new_name)
        if q is None:
            return None
        outcome = await ls.ask("rename", q)
        return outcome.value if isinstance(outcome.value, types.WorkspaceEdit) else None
