"""Files changed outside the editor: `workspace/didChangeWatchedFiles`, registered dynamically when the
client can, with a file watcher (watchfiles) in a thread as the fallback. Open documents are left
alone: their live buffer is what the index holds."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from lsprotocol import types

from nexus.engine.errors import NexusError
from nexus.engine.languages import LANGUAGE_BY_SUFFIX, language_for

from ..documents import path_of
from ..server import NexusServer

log = logging.getLogger(__name__)

_SKIP = frozenset({".git", ".nexus", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache", "build", "dist",
                   ".virtual_documents"})


def register(server: NexusServer) -> None:
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def apply(ls: NexusServer, path: Path, deleted: bool) -> None:
        if language_for(path.name) is None or _SKIP.intersection(path.parts):
            return
        if ls.documents.get(path.as_uri()) is not None:
            return
        folder = ls.folders.for_path(path)
        if folder is None or folder.ws is None:
            return
        try:
            rel = folder.ws.relative(path)
            if deleted or not path.exists():
                folder.ws.remove_file(rel)
            else:
                folder.ws.update_file(rel)
        except NexusError as exc:
            log.info("watched change to %s not indexed: %s", path, exc)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def did_change_watched_files(ls: NexusServer, params: types.DidChangeWatchedFilesParams) -> None:
        for change in params.changes:
            path = path_of(change.uri)
            if path is not None:
                await ls.offload(apply, ls, path, change.type == types.FileChangeType.Deleted)
        ls.disk_changed()
        ls.emit("files-changed")

    def on_initialized() -> None:
        caps = server.client_capabilities.workspace
        dynamic = bool(caps and caps.did_change_watched_files and caps.did_change_watched_files.dynamic_registration)
        if dynamic:
            patterns = "{" + ",".join(sorted(s.lstrip(".") for s in LANGUAGE_BY_SUFFIX)) + "}"
            options = types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[types.FileSystemWatcher(glob_pattern=f"**/*.{patterns}")])
            server.client_register_capability(types.RegistrationParams(registrations=[types.Registration(
                id="nexus-watched-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=options)]))
            return
        if not server.options.file_watcher:
            return
        roots = [folder.root for folder in server.folders]
        if roots:
            thread = threading.Thread(target=_watch, args=(server, roots, apply, stop), name="file-watcher",
                                      daemon=True)
            threads.append(thread)
            thread.start()

    def on_shutdown() -> None:
        """Stop watching, and let a change being indexed finish before the folders close."""
        stop.set()
        for thread in threads:
            thread.join(timeout=10)

    server.on("initialized", on_initialized)
    server.on("shutdown", on_shutdown)


def _watch(ls: NexusServer, roots: list[Path], apply, stop: threading.Event) -> None:  # type: ignore[no-untyped-def]
    try:
        from watchfiles import Change, watch
    except ImportError:
        log.warning("watchfiles is not installed: changes made outside the editor are seen at the next reindex")
        return
    log.info("watching %s for changes (the client does not register file watchers)", ", ".join(map(str, roots)))
    try:
        for changes in watch(*roots, stop_event=stop, debounce=300, raise_interrupt=False):
            for kind, name in changes:
                apply(ls, Path(name), kind == Change.deleted)
            ls.disk_changed()
            ls.emit("files-changed")
    except Exception:
        log.exception("file watcher stopped")
