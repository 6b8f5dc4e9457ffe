"""The hover's "last changed by / when / commit subject" line, behind the ``[git] blame_hover`` setting
(``NEXUS_GIT_BLAME_HOVER=1``; off by default: blame walks the file's history on first use per HEAD)."""

from __future__ import annotations

import logging

from lsprotocol import types

from nexus.engine.errors import ConfigError
from nexus.engine.vcs import GitSettings, last_change

from ..server import NexusServer

log = logging.getLogger(__name__)


async def with_last_change(ls: NexusServer, params: types.HoverParams, hover: types.Hover | None) -> types.Hover | None:
    """``hover`` with the line appended when the setting is on and the line is committed."""
    if hover is None:
        return None
    doc = ls.document(params.text_document.uri)
    folder = ls.folder_of(doc)
    if folder is None or folder.ws is None or not doc.rel:
        return hover
    try:
        if not folder.ws.settings.section("git", GitSettings).blame_hover:
            return hover
    except ConfigError as exc:
        log.warning("git settings: %s", exc)
        return hover
    row = params.position.line
    text = doc.text.splitlines()[row] if row < len(doc.text.splitlines()) else ""
    line = await ls.offload(last_change, folder.root, doc.rel, row + 1, text)
    if line is None or not isinstance(hover.contents, types.MarkupContent):
        return hover
    value = f"{hover.contents.value}\n\n---\n\n*{line}*"
    return types.Hover(types.MarkupContent(kind=types.MarkupKind.Markdown, value=value), hover.range)
