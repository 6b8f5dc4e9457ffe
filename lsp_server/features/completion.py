"""textDocument/completion and completionItem/resolve, through the semantic seam.

The backend (jedi for Python) answers within the completion policy's short limit; when it is later,
the index's answer comes back marked incomplete, so the client asks again on the next keystroke, and
the backend's late answer serves it. When the index has nothing (``os.pa`` right after opening), the
backend is waited for instead: an empty list is never the answer while a right one is on its way.
"""

from __future__ import annotations

from lsprotocol import types

from ..server import NexusServer


def register(server: NexusServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(
        trigger_characters=[".", ">", ":"], resolve_provider=True))
    async def completion(ls: NexusServer, params: types.CompletionParams) -> types.CompletionList:
        doc = ls.document(params.text_document.uri)
        q = ls.query(doc, params.position)
        if q is None:
            return types.CompletionList(is_incomplete=False, items=[])
        outcome = await ls.ask("completion", q)
        found = outcome.value if isinstance(outcome.value, types.CompletionList) else \
            types.CompletionList(is_incomplete=False, items=[])
        if outcome.fallback:
            found.is_incomplete = True
        return found

    @server.feature(types.COMPLETION_ITEM_RESOLVE)
    async def completion_item_resolve(ls: NexusServer, item: types.CompletionItem) -> types.CompletionItem:
        resolved = await ls.resolve(item)
        return resolved if resolved is not None else item
