"""initialize / initialized / shutdown and workspace folders: opening (and indexing) each folder."""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types

from ..convert import encoding_for
from ..documents import path_of
from ..options import Options
from ..server import NexusServer

log = logging.getLogger(__name__)


def register(server: NexusServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: NexusServer, params: types.InitializeParams) -> None:
        ls.loop = asyncio.get_running_loop()
        ls.documents.encoding = encoding_for(params.capabilities)
        ls.options = Options.parse(params.initialization_options)
        index = ls.options.index
        folders = list(params.workspace_folders or ())
        if not folders and (params.root_uri or params.root_path):
            uri = params.root_uri or types.WorkspaceFolder(uri="", name="").uri
            if not uri and params.root_path:
                from pathlib import Path

                uri = Path(params.root_path).as_uri()
            folders = [types.WorkspaceFolder(uri=uri, name="root")]
        for folder in folders:
            root = path_of(folder.uri)
            if root is None:
                log.warning("workspace folder %s is not a file URI: ignored", folder.uri)
                continue
            ls.folders.add(folder.uri, root, index=index)

    @server.feature(types.INITIALIZED)
    def initialized(ls: NexusServer, params: types.InitializedParams) -> None:
        ls.emit("initialized")
        for folder in ls.folders:
            for backend in ls.backends():
                backend.start(folder)
            if folder.error:
                ls.log_to_client(f"Nexus: {folder.error}", types.MessageType.Warning)
        if ls.options.unknown:
            ls.log_to_client(f"Nexus: unknown initializationOptions ignored: {', '.join(ls.options.unknown)}",
                             types.MessageType.Warning)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: NexusServer, params: None) -> None:
        # Off the loop: the file watcher and the query pool finish what they are writing to the index
        # before the folders (and their index writers) close.
        await asyncio.to_thread(_close, ls)

    def _close(ls: NexusServer) -> None:
        ls.emit("shutdown")
        ls.pool.shutdown(wait=True, cancel_futures=True)
        ls.background.shutdown(wait=True, cancel_futures=True)
        ls.folders.close()
        ls.close_jedi()

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def did_change_workspace_folders(ls: NexusServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        for removed in params.event.removed:
            root = path_of(removed.uri)
            if root is not None:
                ls.folders.remove(root)
        for added in params.event.added:
            root = path_of(added.uri)
            if root is not None:
                folder = await ls.offload(ls.folders.add, added.uri, root, ls.options.index)
                for backend in ls.backends():
                    backend.start(folder)
        ls.emit("folders")
