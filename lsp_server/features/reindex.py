"""``nexus/reindex``: update the index and answer when it is done, reporting ``$/progress``.

Params ``{uri?: string, workDoneToken?: ProgressToken}``:

- none, or a folder URI: every workspace folder (or that one) is updated, and the answer is
  ``{folders: [summary...]}`` (``nexus index --json``'s shape) once every run has finished. Progress
  goes to the request's ``workDoneToken`` when it has one (the server's own indexing progress is
  reported as usual otherwise). A run already going on is followed by one more, so the answer covers
  every change made before the request.
- a file URI: that file is re-indexed (from its open buffer, else from disk); the answer is
  ``{updated: [path], removed: []}`` (or the reverse for a file that is gone) when it is searchable.

Cancelling the request stops the wait, not the run: the index is left consistent either way.
"""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from nexus.engine.errors import NexusError

from ..documents import path_of
from ..folders import Folder
from ..server import NexusServer

METHOD = "nexus/reindex"
REQUEST_FAILED = -32803  # LSP's RequestFailed: the request was valid, the work failed


def register(server: NexusServer) -> None:
    @server.feature(METHOD)
    async def nexus_reindex(ls: NexusServer, params: Any) -> dict[str, Any]:
        uri = _param(params, "uri")
        token = _param(params, "workDoneToken")
        if uri is not None and not isinstance(uri, str):
            raise JsonRpcInvalidParams(message="nexus/reindex expects {uri?: string, workDoneToken?}")
        if token is not None and (not isinstance(token, (str, int)) or isinstance(token, bool)):
            raise JsonRpcInvalidParams(message="nexus/reindex: workDoneToken must be a string or a number")
        path = path_of(uri) if uri else None
        if uri and path is None:
            raise JsonRpcInvalidParams(message=f"{uri} is not a file URI")
        if path is not None and not path.is_dir():
            return await _one_file(ls, uri, path)  # type: ignore[arg-type]
        folders = [f for f in ls.folders
                   if path is None or f.root == path.resolve() or path.resolve().is_relative_to(f.root)]
        if path is not None and not folders:
            raise JsonRpcInvalidParams(message=f"{uri} is not a workspace folder")
        reporter = _Reporter(ls, token, folders) if token is not None else None
        try:
            runs = [asyncio.wrap_future(ls.folders.reindex(folder)) for folder in folders]
            results = await asyncio.gather(*runs, return_exceptions=True)
        finally:
            if reporter is not None:
                reporter.close()
        failures = [f"{folder.root}: {result}" for folder, result in zip(folders, results, strict=True)
                    if isinstance(result, BaseException)]
        if failures:
            raise JsonRpcException(message="indexing failed: " + "; ".join(failures), code=REQUEST_FAILED)
        return {"folders": results}


async def _one_file(ls: NexusServer, uri: str, path: Any) -> dict[str, Any]:
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


class _Reporter:
    """The request's work-done progress: begin now, a report per indexer event, end when closed."""

    def __init__(self, ls: NexusServer, token: str | int, folders: list[Folder]) -> None:
        self.ls, self.token, self.folders = ls, token, set(folders)
        names = ", ".join(sorted(f.root.name for f in folders)) or "no folder"
        ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=f"Indexing {names}",
                                                                       cancellable=False, percentage=0))
        ls.on("index-progress", self.event)

    def event(self, folder: Folder, event: Any, phase: str) -> None:
        if folder not in self.folders or phase != "report" or event is None:
            return
        total = max(event.bytes_total, 1)
        message = f"{folder.root.name}: {event.files_done}/{event.files_total} files" if event.files_total \
            else f"{folder.root.name}: {event.phase}"
        self.ls.work_done_progress.report(self.token, types.WorkDoneProgressReport(
            message=message, percentage=min(100, int(100 * event.bytes_done / total))))

    def close(self) -> None:
        self.ls.off("index-progress", self.event)
        self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message="done"))
        self.ls.work_done_progress.tokens.pop(self.token, None)


def _param(params: Any, name: str) -> Any:
    if isinstance(params, dict):
        return params.get(name)
    return getattr(params, name, None)
