"""``nexus/reindex``: rebuild or update the index, reporting ``$/progress``.

Params ``{uri?: string}``: a file URI re-indexes that file (from its open buffer, else from disk) and
answers when it is searchable; a folder URI, or none (every folder), starts a background update and
answers at once with the folders started; ``nexus/status`` and ``$/progress`` follow it.
"""

from __future__ import annotations

from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

from nexus.engine.errors import NexusError

from ..documents import path_of
from ..server import NexusServer

METHOD = "nexus/reindex"


def register(server: NexusServer) -> None:
    @server.feature(METHOD)
    async def nexus_reindex(ls: NexusServer, params: Any) -> dict[str, Any]:
        uri = params.get("uri") if isinstance(params, dict) else getattr(params, "uri", None)
        if uri is not None and not isinstance(uri, str):
            raise JsonRpcInvalidParams(message="nexus/reindex expects {uri?: string}")
        path = path_of(uri) if uri else None
        if uri and path is None:
            raise JsonRpcInvalidParams(message=f"{uri} is not a file URI")
        if path is not None and not path.is_dir():
            folder = ls.folders.for_path(path)
            if folder is None or folder.ws is None:
                raise JsonRpcInvalidParams(message=f"{uri} is not inside a workspace folder")
            doc = ls.documents.get(uri)
            try:
                rel = folder.ws.relative(path)
                info = await ls.offload(folder.ws.update_file, rel, doc.text if doc is not None else None)
            except NexusError as exc:
                raise JsonRpcInvalidParams(message=str(exc)) from exc
            return {"updated": [rel] if info is not None else [], "removed": [] if info is not None else [rel]}
        started = []
        for folder in ls.folders:
            if path is None or folder.root == path.resolve() or path.resolve().is_relative_to(folder.root):
                ls.folders.reindex(folder)
                started.append(folder.root.as_uri())
        if path is not None and not started:
            raise JsonRpcInvalidParams(message=f"{uri} is not a workspace folder")
        return {"started": started}
