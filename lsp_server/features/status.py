"""``nexus/status``: the state of each folder's index, the AI providers and the kernels, for status bars
and health checks.

Result: ``{version, server: {name, version}, positionEncoding, openDocuments, folders: [...],
python: {...}, semantics: {answers}, providers?: [...], kernels?: {...}}``. ``semantics.answers`` counts,
per feature, who answered (``{"definition": {"jedi": 3, "index": 1}, "hover": {"none": 1}}``). Each folder is ``{uri, root, state, error,
filesDone, filesTotal, indexedAt, index: <nexus status --json>, pythonEnvironment}``: the live state
of the server's indexing next to what the index holds. ``providers`` (``ProviderRouter.status()``:
names, models, whether configured, never a key) and ``kernels`` (each language and whether it can
run here) are present when those packages can be imported.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from nexus.engine.errors import NexusError

from ..server import NexusServer

log = logging.getLogger(__name__)

METHOD = "nexus/status"


def register(server: NexusServer) -> None:
    @server.feature(METHOD)
    async def nexus_status(ls: NexusServer, params: Any) -> dict[str, Any]:
        return await ls.offload(status, ls)


def status(ls: NexusServer) -> dict[str, Any]:
    folders = list(ls.folders)
    out: dict[str, Any] = {
        "version": ls.version, "server": {"name": ls.name, "version": ls.version},
        "positionEncoding": ls.documents.encoding, "openDocuments": sum(1 for _ in ls.documents),
        "folders": [folder.status() for folder in folders],
        "python": ls.jedi.status() if ls.jedi_started else {"running": None, "pid": None},
        "semantics": {"answers": ls.asker.status()},
    }
    root = folders[0].root if folders else Path.cwd()
    settings = folders[0].ws.settings if folders and folders[0].ws is not None else None
    providers = _providers(root, settings)
    if providers is not None:
        out["providers"] = providers
    kernels = _kernels()
    if kernels is not None:
        out["kernels"] = kernels
    return out


def _providers(root: Path, settings: Any) -> Any:
    try:
        from nexus.engine.providers import ProviderRouter
    except ImportError as exc:
        log.debug("providers unavailable: %s", exc)
        return None
    try:
        return ProviderRouter.from_settings(settings, root=root).status()
    except NexusError as exc:  # a broken [providers] section: say so instead of hiding it
        return {"error": str(exc)}


def _kernels() -> dict[str, Any] | None:
    try:
        from nexus.kernels import LANGUAGES
    except ImportError as exc:
        log.debug("kernels unavailable: %s", exc)
        return None
    out = {}
    for name, language in LANGUAGES.items():
        missing = language.missing()
        out[name] = {"displayName": language.display_name, "ready": missing is None, "detail": missing or "ready"}
    return out
