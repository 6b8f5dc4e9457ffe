"""textDocument/signatureHelp, through the semantic seam (the index knows no signatures)."""

from __future__ import annotations

from lsprotocol import types

from ..server import NexusServer


def register(server: NexusServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_SIGNATURE_HELP, types.SignatureHelpOptions(
        trigger_characters=["(", ","], retrigger_characters=[")"]))
    async def signature_help(ls: NexusServer, params: types.SignatureHelpParams) -> types.SignatureHelp | None:
        q = ls.query(ls.document(params.text_document.uri), params.position)
        if q is None:
            return None
        outcome = await ls.ask("signatureHelp", q)
        return outcome.value if isinstance(outcome.value, types.SignatureHelp) else None
