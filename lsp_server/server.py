"""The Nexus language server: state, the event-loop rules, and the list of feature modules.

Each LSP feature lives in its own module under ``features/`` with a ``register(server)`` function; adding
a feature (inline completion, code actions, ``nexus/chat``, ``nexus/run``) is adding a module to
``FEATURES``. Handlers stay short on the event loop: anything that parses or reads the index goes
through :meth:`NexusServer.offload` (a thread pool, honouring ``$/cancelRequest``); every semantic
question (completion, definition, references, hover, ...) goes through :meth:`NexusServer.ask`, the one
combinator over the language's backend and the index (``semantics/``).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import re
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.exceptions import FeatureRequestError, JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from nexus.engine.errors import NexusError
from nexus.engine.jedi_process import JediProcess
from nexus.engine.python_semantics import PythonSemantics

from .convert import encoding_for, lsp_encoding
from .documents import Document, DocumentError, Documents, path_of
from .folders import Folder, Folders
from .options import Options
from .semantics import Asker, IndexSemantics, JediSemantics, Outcome, Query, Semantics

log = logging.getLogger(__name__)
T = TypeVar("T")
POPUP_INTERVAL = 300.0  # seconds: at most one window/showMessage popup for out-of-band errors in this time

FEATURES = (
    "lifecycle", "sync", "watch", "diagnostics", "completion", "hover", "signature_help", "definition",
    "references", "highlight", "rename", "document_symbols", "workspace_symbols", "folding", "selection",
    "search", "reindex", "status", "chat", "code_actions", "inline_completion", "run", "operations",
)


class NexusProtocol(LanguageServerProtocol):
    """pygls' protocol with our document store and our position-encoding choice."""

    _server: NexusServer

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams):  # type: ignore[no-untyped-def, override]
        result = yield from super().lsp_initialize(params)
        result.capabilities.position_encoding = lsp_encoding(encoding_for(params.capabilities))
        return result

    def structure_message(self, data: dict[str, Any]) -> Any:
        """pygls drops a request whose params do not fit the method's type without answering it,
        which leaves the client waiting forever: answer such a request with InvalidParams.

        This is json's ``object_hook``: it sees every object of a message, innermost first, so it is
        also where lone surrogates (``"\\ud800"`` is valid JSON, but no UTF-8 can carry it) become
        U+FFFD in every string (URIs, queries, document text) before any feature encodes one. U+FFFD
        takes as many UTF-8 bytes and UTF-16 units as a surrogate, so positions do not move."""
        for key, value in list(data.items()):
            clean = _scrub(value)
            if clean is not value:
                data[key] = clean
        try:
            return super().structure_message(data)
        except JsonRpcException:
            msg_id = data.get("id")
            if "method" in data and isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool):
                log.info("invalid params for %s (id %s): answered with an error", data.get("method"), msg_id)
                error = JsonRpcInvalidParams(message=f"invalid params for {data.get('method')}")
                self._send_response(msg_id, error=error.to_response_error())
                raise error from None
            raise

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args):  # type: ignore[no-untyped-def, override]
        """After the usual shutdown, await the async clean-ups features registered (kernels to stop):
        the response waits for them, so ``exit`` can end the process at once."""
        result = yield from super().lsp_shutdown(*args)
        for cleanup in list(self._server.cleanups):
            yield cleanup, (), None
        return result

    # Our Documents store applies the changes; pygls' copy would only cost time and memory.
    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams):  # type: ignore[no-untyped-def, override]
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):  # type: ignore[no-untyped-def, override]
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams):  # type: ignore[no-untyped-def, override]
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None


class NexusServer(LanguageServer):
    def __init__(self) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            own_version = version("nexus-ide")
        except PackageNotFoundError:
            own_version = "0"
        super().__init__("nexus", own_version, protocol_cls=NexusProtocol,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental, max_workers=4)
        self.documents = Documents()
        self.folders = Folders(self._progress_from_thread)
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="nexus-query")
        # Work no request waits for (diagnostics, the index following unsaved buffers) queues here, so
        # it never holds up a request in the query pool.
        self.background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nexus-background")
        self.loop: asyncio.AbstractEventLoop | None = None
        self.options = Options()
        self.asker = Asker(lambda: self.options)
        self.index_semantics: Semantics = IndexSemantics(self)
        self.jedi_semantics: Semantics = JediSemantics(self)
        self.hooks: dict[str, list[Callable[..., Any]]] = {}
        self.cleanups: list[Callable[[], Awaitable[None]]] = []  # awaited before the shutdown response
        self._progress_tokens: dict[str, str] = {}
        self._loose_python: dict[Path, PythonSemantics] = {}
        self._jedi: JediProcess | None = None
        self.errors_reported = 0
        self._last_popup: float | None = None

    @property
    def jedi(self) -> JediProcess:
        """The jedi worker process every folder shares (started on the first Python request)."""
        if self._jedi is None:
            self._jedi = JediProcess()
        return self._jedi

    @property
    def jedi_started(self) -> bool:
        return self._jedi is not None

    def disk_changed(self) -> None:
        """Files changed on disk (saved, created, deleted): jedi must read them again."""
        if self._jedi is not None:
            self._jedi.files_changed()

    def close_jedi(self) -> None:
        if self._jedi is not None:
            self._jedi.close()

    # -- plumbing features share ---------------------------------------------------------------

    def on(self, event: str, callback: Callable[..., Any]) -> None:
        """Subscribe to a server event ("opened", "changed", "closed", "saved", "indexed")."""
        self.hooks.setdefault(event, []).append(callback)

    def off(self, event: str, callback: Callable[..., Any]) -> None:
        callbacks = self.hooks.get(event, [])
        if callback in callbacks:
            callbacks.remove(callback)

    def emit(self, event: str, *args: Any) -> None:
        for callback in list(self.hooks.get(event, ())):
            try:
                callback(*args)
            except Exception:
                log.exception("%s handler %r failed", event, callback)

    async def offload(self, fn: Callable[..., T], *args: Any, background: bool = False) -> T:
        """Run ``fn`` in the query pool (or the background one). If the request is cancelled first, the
        work never starts."""
        future = (self.background if background else self.pool).submit(fn, *args)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            future.cancel()
            raise

    # -- the semantic seam -------------------------------------------------------------------------

    def backend_for(self, doc: Document) -> Semantics | None:
        """The semantic backend of ``doc``'s language (None: the index answers alone)."""
        if doc.language == "python":
            return self.jedi_semantics
        return None

    def backends(self) -> list[Semantics]:
        """Every semantic backend this server may ask."""
        return [self.jedi_semantics]

    def query(self, doc: Document, position: types.Position, extra: Any = None) -> Query | None:
        """A Query for ``position`` in ``doc``, or None when the position is outside the document."""
        if not doc.lines.in_range(position):
            return None
        row, col = doc.lines.row_col(position)
        return Query(doc, position, row, col, self.folder_of(doc), extra)

    async def ask(self, feature: str, q: Query) -> Outcome:
        """Ask ``q`` of the document's backend and the index, as ``semantics.policy`` says for ``feature``."""
        return await self.asker.ask(feature, q, self.backend_for(q.doc), self.index_semantics)

    async def resolve(self, item: types.CompletionItem) -> types.CompletionItem | None:
        """Resolve ``item`` with the backend that made it (None: nothing to add)."""
        data = item.data if isinstance(item.data, dict) else {}
        if "py" in data:
            return await self.asker.resolve(item, self.jedi_semantics)
        return None

    def document(self, uri: str) -> Document:
        """The open (or on-disk) document; raises a JSON-RPC error the client can show otherwise."""
        try:
            doc = self.documents.get(uri)
            if doc is not None:
                return doc
            folder = self.folders.for_path(path_of(uri))
            return self.documents.require(uri, folder.root if folder is not None else None)
        except DocumentError as exc:
            log.info("%s", exc)
            raise DocumentRequestError(str(exc)) from exc

    def semantics(self, doc: Document) -> PythonSemantics | None:
        """jedi for a Python document: its folder's, or one for its own folder when outside them all.

        None for a document above its size limit: parso takes about 20 s and gigabytes per 1 MB of
        source, so jedi never sees such a buffer; features answer from the syntax tree or the index."""
        if doc.too_large:
            return None
        folder = self.folder_of(doc)
        if folder is not None:
            return folder.python(self.jedi)
        if doc.path is None:
            return None
        root = doc.path.parent
        found = self._loose_python.get(root)
        if found is None:
            try:
                found = self._loose_python[root] = PythonSemantics(root, process=self.jedi)
            except NexusError as exc:
                log.error("python semantics unavailable for %s: %s", root, exc)
                return None
        return found

    def folder_of(self, doc: Document) -> Folder | None:
        """The folder of ``doc``, remembered on it until the workspace folders change."""
        cached = doc.folder
        if cached is not None and cached[0] == self.folders.generation:
            return cached[1]  # type: ignore[no-any-return]
        found = self.folders.for_path(doc.path)
        doc.folder = (self.folders.generation, found)
        return found

    def sources(self, folder: Folder | None) -> dict[str, Any]:
        """Live sources of the other open documents in ``folder``, by workspace-relative path."""
        out = {}
        for doc in self.documents:
            if folder is not None and doc.path is not None and self.folder_of(doc) is folder:
                out[doc.rel] = doc.source
        return out

    def report_server_error(self, error: Exception, source: Any) -> None:
        """pygls pops up ``window/showMessage`` for every message it cannot handle: a client sending
        garbage (or a fuzzer) meant hundreds of popups. Each error goes to the log (stderr and
        ``window/logMessage``); the user sees at most one popup per :data:`POPUP_INTERVAL`, saying
        where the rest went. Errors in requests are answered in the response, as pygls does."""
        if source is FeatureRequestError:
            return
        self.errors_reported += 1
        what = "a message the server could not handle" if source is JsonRpcException else "a notification failed"
        text = f"{what}: {error}"
        log.warning("%s", text)
        try:
            self.log_to_client(text, types.MessageType.Warning)
            now = time.monotonic()
            if self._last_popup is None or now - self._last_popup >= POPUP_INTERVAL:
                self._last_popup = now
                self.window_show_message(types.ShowMessageParams(
                    type=types.MessageType.Error,
                    message=f"Nexus: {text}. Further errors in the next {POPUP_INTERVAL / 60:.0f} minutes "
                            "go to the Nexus log only."))
        except Exception:  # the transport itself is gone: stderr has it
            log.debug("could not report the error to the client", exc_info=True)

    def log_to_client(self, message: str, kind: types.MessageType = types.MessageType.Log) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    # -- progress ----------------------------------------------------------------------------------

    def _progress_from_thread(self, folder: Folder, event: Any, phase: str) -> None:
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._progress, folder, event, phase)

    def _progress(self, folder: Folder, event: Any, phase: str) -> None:
        self.emit("index-progress", folder, event, phase)
        supported = bool(self.client_capabilities.window and self.client_capabilities.window.work_done_progress)
        key = str(folder.root)
        if phase == "begin":
            if not supported:
                return
            token = f"nexus-index-{id(folder)}-{asyncio.get_running_loop().time()}"
            self._progress_tokens[key] = token
            self.work_done_progress.create(token)
            self.work_done_progress.begin(token, types.WorkDoneProgressBegin(
                title=f"Indexing {folder.root.name}", cancellable=False, percentage=0))
        elif phase == "report" and key in self._progress_tokens:
            total = max(event.bytes_total, 1)
            message = f"{event.files_done}/{event.files_total} files" if event.files_total else event.phase
            self.work_done_progress.report(self._progress_tokens[key], types.WorkDoneProgressReport(
                message=message, percentage=min(100, int(100 * event.bytes_done / total))))
        elif phase == "end":
            token = self._progress_tokens.pop(key, None)
            if token is not None:
                self.work_done_progress.end(token, types.WorkDoneProgressEnd(
                    message=folder.error or f"{folder.files_total} files indexed"))
            self.emit("indexed", folder)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _scrub(value: Any) -> Any:
    """``value`` with lone surrogates replaced (strings, and strings in lists); itself if clean."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value
    if isinstance(value, list):
        cleaned = [_scrub(item) for item in value]
        return cleaned if any(a is not b for a, b in zip(cleaned, value, strict=True)) else value
    return value


class DocumentRequestError(JsonRpcInvalidParams):
    """A request about a document that cannot be served: the client gets an InvalidParams error
    response carrying the reason."""

    def __init__(self, message: str) -> None:
        super().__init__(message=message)


def create_server() -> NexusServer:
    server = NexusServer()
    for name in FEATURES:
        module = importlib.import_module(f"{__package__}.features.{name}")
        module.register(server)
    return server


def stdio_streams() -> tuple[Any, Any]:
    """The protocol owns the real stdout; anything else printing to it (a library) goes to stderr."""
    stdout = sys.stdout.buffer
    sys.stdout = sys.stderr
    return sys.stdin.buffer, stdout


def root_of(uri: str) -> Path | None:
    return path_of(uri)
