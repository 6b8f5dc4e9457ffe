"""textDocument/signatureHelp for Python, from jedi."""

from __future__ import annotations

from lsprotocol import types

from ..server import NexusServer

BUDGET = 0.5


def register(server: NexusServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_SIGNATURE_HELP, types.SignatureHelpOptions(
        trigger_characters=["(", ","], retrigger_characters=[")"]))
    async def signature_help(ls: NexusServer, params: types.SignatureHelpParams) -> types.SignatureHelp | None:
        doc = ls.document(params.text_document.uri)
        if doc.language != "python" or doc.path is None or not doc.lines.in_range(params.position):
            return None
        semantics = ls.semantics(doc)
        if semantics is None:
            return None
        row, col = doc.lines.row_col(params.position)
        found = await ls.python(semantics.signatures(str(doc.path), doc.text, row, col), ls.budget("signatureHelp", BUDGET))
        if not found:
            return None
        signatures = [types.SignatureInformation(
            label=s.label,
            documentation=types.MarkupContent(types.MarkupKind.Markdown, s.doc) if s.doc else None,
            parameters=[types.ParameterInformation(label=p) for p in s.params],
            active_parameter=s.active_param) for s in found]
        return types.SignatureHelp(signatures=signatures, active_signature=0,
                                   active_parameter=found[0].active_param)
