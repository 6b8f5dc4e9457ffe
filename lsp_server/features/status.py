"""``nexus/status``: the state of each folder's index, for status bars and health checks."""

from __future__ import annotations

from typing import Any

from ..server import NexusServer

METHOD = "nexus/status"


def register(server: NexusServer) -> None:
    @server.feature(METHOD)
    async def nexus_status(ls: NexusServer, params: Any) -> dict[str, Any]:
        folders = await ls.offload(lambda: [folder.status() for folder in ls.folders])
        return {"server": {"name": ls.name, "version": ls.version}, "positionEncoding": ls.documents.encoding,
                "openDocuments": sum(1 for _ in ls.documents), "folders": folders}
