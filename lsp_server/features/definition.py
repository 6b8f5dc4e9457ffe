"""textDocument/definition, declaration and typeDefinition, through the semantic seam.

The backend's answer is the answer (jedi: definition follows imports, declaration stops at them, type
definition infers); the scope- and import-aware index search answers for languages without one, when
it fails, or past the policy's generous limit. A parameter or a local (or, for a declaration, the
import) is settled by the file's scopes exactly as jedi would settle it, and answered at once.
"""

from __future__ import annotations

from lsprotocol import types

from ..server import NexusServer

Params = types.DefinitionParams | types.DeclarationParams | types.TypeDefinitionParams


def register(server: NexusServer) -> None:
    async def locate(ls: NexusServer, params: Params, feature: str) -> list[types.Location]:
        q = ls.query(ls.document(params.text_document.uri), params.position)
        if q is None:
            return []
        outcome = await ls.ask(feature, q)
        return list(outcome.value or [])

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def definition(ls: NexusServer, params: types.DefinitionParams) -> list[types.Location]:
        return await locate(ls, params, "definition")

    @server.feature(types.TEXT_DOCUMENT_DECLARATION)
    async def declaration(ls: NexusServer, params: types.DeclarationParams) -> list[types.Location]:
        return await locate(ls, params, "declaration")

    @server.feature(types.TEXT_DOCUMENT_TYPE_DEFINITION)
    async def type_definition(ls: NexusServer, params: types.TypeDefinitionParams) -> list[types.Location]:
        return await locate(ls, params, "typeDefinition")
