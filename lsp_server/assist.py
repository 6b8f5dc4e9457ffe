"""What the AI and kernel features of the language server share: one assistant (provider router) and
one execution service per server, the conversions between their values and LSP's, and the error
mapping at the edge.

The assistant is built on first use from the first workspace folder's settings (``.nexus.toml``,
``nexus.toml``, ``NEXUS_*`` and the providers' API key variables of the server's environment), so a
server that never answers an AI request never imports an SDK; ``initialized`` warms it in the
background when a provider is configured. Grounding (index reads, tree-sitter) runs in a pool of its
own, so a burst of inline completions never queues in front of the latency-critical query pool that
completion and definition use.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from nexus.engine.assistant import Assistant, Diagnostic, Document, FileEdit, ReceiptEntry
from nexus.engine.errors import NexusError
from nexus.engine.model import Span
from nexus.engine.providers import ProviderError, StreamInterruptedError
from nexus.engine.workspace import Workspace

from .convert import LineMap
from .documents import Document as LspDocument
from .folders import Folder
from .server import NexusServer

log = logging.getLogger(__name__)
T = TypeVar("T")

REQUEST_FAILED = -32803  # LSP 3.17 ErrorCodes.RequestFailed: a valid request that could not be served
CONTENT_MODIFIED = -32801


class RequestFailed(JsonRpcException):
    """A Nexus error at the edge: the message is the user's, ``data`` says which kind."""

    def __init__(self, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(code=REQUEST_FAILED, message=message, data=data)


class ContentModified(JsonRpcException):
    def __init__(self, message: str) -> None:
        super().__init__(code=CONTENT_MODIFIED, message=message)


def failure(exc: NexusError) -> JsonRpcException:
    """The JSON-RPC error for a Nexus error; provider errors keep their kind, provider and partial text."""
    data: dict[str, Any] = {"type": type(exc).__name__}
    if isinstance(exc, ProviderError):
        data.update(exc.to_json())
    if isinstance(exc, StreamInterruptedError):
        data["partialText"] = exc.partial_text
    return RequestFailed(str(exc), data)


class AssistState:
    """Per-server state of the AI and kernel features."""

    def __init__(self, ls: NexusServer) -> None:
        self.ls = ls
        self._assistant: Assistant | None = None
        self._problem: str | None = None
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="nexus-assist")
        self.kernels: Any = None  # nexus.kernels.ExecutionService, started by the first nexus/run
        self.kernels_lock = asyncio.Lock()

    def assistant(self) -> Assistant:
        """The assistant; raises RequestFailed when the settings are invalid (the message names the key)."""
        if self._assistant is None:
            if self._problem is not None:
                raise RequestFailed(self._problem)
            folders = list(self.ls.folders)
            root = folders[0].root if folders else None
            try:
                self._assistant = Assistant.from_settings(root=root, run_sync=self.run_sync)
            except NexusError as exc:
                self._problem = f"AI settings: {exc}"
                log.error("%s", self._problem)
                raise RequestFailed(self._problem) from exc
        return self._assistant

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` in the assistant's pool; a request cancelled before it starts never runs it."""
        future = self.pool.submit(fn, *args)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            future.cancel()
            raise

    async def aclose(self) -> None:
        """Close the providers' HTTP clients and the pool (the server's shutdown awaits this)."""
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self._assistant is not None:
            await self._assistant.aclose()

    def ai_available(self) -> bool:
        try:
            return self.assistant().available
        except RequestFailed:
            return False


def state(ls: NexusServer) -> AssistState:
    found = ls.__dict__.get("_nexus_assist")
    if found is None:
        found = ls.__dict__["_nexus_assist"] = AssistState(ls)
    return found  # type: ignore[no-any-return]


# -- params ----------------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """pygls hands custom params over as namedtuples: back to JSON-like values."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def params_of(params: Any) -> dict[str, Any]:
    value = plain(params)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise JsonRpcInvalidParams(message="params must be an object")
    return value


def position(value: Any, what: str = "position") -> types.Position:
    if not isinstance(value, dict) or not all(isinstance(value.get(k), int) and not isinstance(value.get(k), bool)
                                              and value[k] >= 0 for k in ("line", "character")):
        raise JsonRpcInvalidParams(message=f"{what} must be {{line, character}} with non-negative integers")
    return types.Position(value["line"], value["character"])


def lsp_range(value: Any, what: str = "range") -> types.Range:
    if not isinstance(value, dict):
        raise JsonRpcInvalidParams(message=f"{what} must be {{start, end}}")
    return types.Range(position(value.get("start"), f"{what}.start"), position(value.get("end"), f"{what}.end"))


def text_document_uri(value: Any) -> str:
    if not isinstance(value, dict) or not isinstance(value.get("uri"), str) or not value["uri"]:
        raise JsonRpcInvalidParams(message="textDocument must be {uri: string}")
    return str(value["uri"])


def span(doc: LspDocument, rng: types.Range) -> Span:
    start = doc.lines.row_col(rng.start)
    end = doc.lines.row_col(rng.end)
    if end < start:
        start, end = end, start
    return Span(start[0], start[1], end[0], end[1])


def point(doc: LspDocument, pos: types.Position) -> tuple[int, int]:
    return doc.lines.row_col(pos)


# -- documents and folders -------------------------------------------------------------------------


def engine_document(ls: NexusServer, doc: LspDocument) -> tuple[Document, Folder | None]:
    """The engine's view of an LSP document: workspace-relative when a folder holds it."""
    folder = ls.folder_of(doc)
    if folder is not None and folder.ws is not None and doc.path is not None:
        try:
            rel = folder.ws.relative(doc.path)
            return Document(rel, doc.text, doc.language, True), folder
        except NexusError:
            pass
    path = str(doc.path) if doc.path is not None else doc.uri
    return Document(path, doc.text, doc.language, False), folder


def workspace_of(ls: NexusServer, folder: Folder | None) -> Workspace | None:
    """The folder's workspace, else the first folder's (a question asked without a document)."""
    if folder is not None:
        return folder.ws
    for candidate in ls.folders:
        if candidate.ws is not None:
            return candidate.ws
    return None


def open_files(ls: NexusServer, folder: Folder | None, exclude: str | None = None) -> tuple[str, ...]:
    if folder is None:
        return ()
    return tuple(rel for rel in ls.sources(folder) if rel and rel != exclude and not Path(rel).is_absolute())


def diagnostic(doc: LspDocument, value: Any) -> Diagnostic | None:
    if value is None:
        return None
    if isinstance(value, types.Diagnostic):
        rng, message, source, code = value.range, value.message, value.source, value.code
    elif isinstance(value, dict) and isinstance(value.get("message"), str):
        rng = lsp_range(value.get("range"), "diagnostic.range")
        message, source, code = value["message"], value.get("source"), value.get("code")
    else:
        raise JsonRpcInvalidParams(message="diagnostic must be an LSP Diagnostic {range, message, ...}")
    return Diagnostic(message, span(doc, rng), str(source or ""), "" if code is None else str(code))


# -- results ---------------------------------------------------------------------------------------


def _root_of(ws: Workspace | None) -> Path | None:
    return ws.root if ws is not None else None


def receipt_json(entries: tuple[ReceiptEntry, ...], ws: Workspace | None) -> list[dict[str, Any]]:
    """The contract's receipt: ``{uri, path, startLine, endLine, reason}`` with zero-based lines."""
    root = _root_of(ws)
    out = []
    for entry in entries:
        if entry.path:
            target = Path(entry.path)
            absolute = target if target.is_absolute() or root is None else root / target
            uri, path = absolute.as_uri(), entry.path
        else:  # the repo map: signatures of several files
            uri, path = (root.as_uri() if root is not None else ""), "(repo map)"
        out.append({"uri": uri, "path": path, "startLine": entry.start_line, "endLine": entry.end_line,
                    "reason": entry.reason, "kind": entry.kind, "tokens": entry.tokens})
    return out


def chat_result(answer: Any, ws: Workspace | None) -> dict[str, Any]:
    """An engine Answer as the ``nexus/chat`` result."""
    return {"text": answer.text, "provider": answer.provider, "model": answer.model,
            "usage": answer.usage.to_json() if answer.usage is not None else {},
            "receipt": receipt_json(answer.receipt, ws), "generated": answer.generated,
            "contextTokens": answer.context_tokens}


def send_partial(ls: NexusServer, token: Any, value: dict[str, Any]) -> None:
    if token is not None:
        ls.progress(types.ProgressParams(token=token, value=value))


def progress_token(args: dict[str, Any]) -> str | int | None:
    token = args.get("partialResultToken")
    if token is None or (isinstance(token, (str, int)) and not isinstance(token, bool)):
        return token
    raise JsonRpcInvalidParams(message="partialResultToken must be a string or an integer")


# -- edits -----------------------------------------------------------------------------------------


def _target(ws: Workspace | None, path: str) -> Path:
    candidate = Path(path)
    if candidate.is_absolute() or ws is None:
        return candidate
    return ws.root / candidate


def _lines_for(ls: NexusServer, target: Path) -> LineMap:
    """Positions in a file as the client sees it: its open buffer, else the disk."""
    doc = ls.documents.get(target.as_uri())
    if doc is not None:
        return doc.lines
    try:
        data = target.read_bytes()
    except FileNotFoundError:
        data = b""
    return LineMap(data, ls.documents.encoding)


def workspace_edit(ls: NexusServer, ws: Workspace | None, edits: tuple[FileEdit, ...],
                   versions: dict[str, int] | None = None) -> types.WorkspaceEdit:
    """A WorkspaceEdit for the engine's edits. Files are created with ``documentChanges`` when the
    client supports resource operations; edits carry the document version they were computed for, so
    a client refuses them if the user typed meanwhile."""
    caps = ls.client_capabilities.workspace
    edit_caps = caps.workspace_edit if caps is not None else None
    document_changes = bool(edit_caps and edit_caps.document_changes)
    can_create = bool(edit_caps and edit_caps.resource_operations
                      and types.ResourceOperationKind.Create in edit_caps.resource_operations)
    changes: list[Any] = []
    plain_changes: dict[str, list[types.TextEdit]] = {}
    for edit in edits:
        target = _target(ws, edit.path)
        uri = target.as_uri()
        if edit.create:
            if not (document_changes and can_create):
                raise RequestFailed(f"the editor cannot create files through LSP; save the tests as {edit.path} "
                                    "yourself (the text is in the result)")
            changes.append(types.CreateFile(uri=uri, options=types.CreateFileOptions(overwrite=False,
                                                                                      ignore_if_exists=True)))
            rng = types.Range(types.Position(0, 0), types.Position(0, 0))
            version = None
        else:
            assert edit.span is not None
            rng = _lines_for(ls, target).range(edit.span)
            doc = ls.documents.get(uri)
            version = (versions or {}).get(uri, doc.version if doc is not None else None)
        text_edit = types.TextEdit(range=rng, new_text=edit.text)
        changes.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
            edits=[text_edit]))
        plain_changes.setdefault(uri, []).append(text_edit)
    if document_changes:
        return types.WorkspaceEdit(document_changes=changes)
    return types.WorkspaceEdit(changes=plain_changes)


def edit_json(edit: types.WorkspaceEdit, ls: NexusServer) -> Any:
    return ls.protocol._converter.unstructure(edit)
