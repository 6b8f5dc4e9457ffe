"""A real `nexus lsp` subprocess driven by pygls' own LanguageClient, with what the assistant tests need
and pytest-lsp's client does not do: collect partial results (``$/progress`` with a
``partialResultToken``), apply ``workspace/applyEdit`` to an in-memory copy of the files, and cancel a
request by id."""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.protocol import default_converter

SERVER = [sys.executable, "-m", "nexus.cli", "lsp"]


def plain(value: Any) -> Any:
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def apply_text_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP edits (ASCII test files: characters are UTF-16 units) to ``text``."""
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)

    def offset(pos: types.Position) -> int:
        return min(starts[min(pos.line, len(lines) - 1)] + pos.character, len(text)) if pos.line < len(lines) \
            else len(text)

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


class Session:
    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env
        self.client = LanguageClient("assistant-tests", "0", converter_factory=default_converter)
        self.partials: dict[Any, list[Any]] = defaultdict(list)
        self.first_partial_at: dict[Any, float] = {}  # perf_counter when a token's first partial arrived
        self.partial_event = asyncio.Event()
        self.applied: list[types.ApplyWorkspaceEditParams] = []
        self.apply_answer = True
        self.files: dict[str, str] = {}  # uri -> text after applied edits
        self.created: list[str] = []
        self.diagnostics: dict[str, list[types.Diagnostic]] = {}  # uri -> the last published
        self.diagnostics_event = asyncio.Event()
        self._ids = itertools.count(1000)
        client = self.client

        @client.feature(types.PROGRESS)
        def progress(params: types.ProgressParams) -> None:
            self.first_partial_at.setdefault(params.token, time.perf_counter())
            self.partials[params.token].append(plain(params.value))
            self.partial_event.set()

        @client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def create(params: types.WorkDoneProgressCreateParams) -> None:
            return None

        @client.feature(types.WINDOW_LOG_MESSAGE)
        def log_message(params: types.LogMessageParams) -> None:
            return None

        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def diagnostics(params: types.PublishDiagnosticsParams) -> None:
            self.diagnostics[params.uri] = list(params.diagnostics)
            self.diagnostics_event.set()

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            self.applied.append(params)
            if not self.apply_answer:
                return types.ApplyWorkspaceEditResult(applied=False, failure_reason="refused by the test")
            for change in params.edit.document_changes or ():
                if isinstance(change, types.CreateFile):
                    self.created.append(change.uri)
                    self.files.setdefault(change.uri, "")
                elif isinstance(change, types.TextDocumentEdit):
                    uri = change.text_document.uri
                    text = self.files.get(uri)
                    if text is None:
                        path = Path(uri.removeprefix("file://"))
                        text = path.read_text(encoding="utf-8") if path.exists() else ""
                    self.files[uri] = apply_text_edits(text, list(change.edits))
            return types.ApplyWorkspaceEditResult(applied=True)

    async def start(self, options: dict[str, Any] | None = None) -> types.InitializeResult:
        await self.client.start_io(*SERVER, env=self.env, cwd=str(self.root))
        caps = types.ClientCapabilities(
            general=types.GeneralClientCapabilities(position_encodings=[types.PositionEncodingKind.Utf16]),
            window=types.WindowClientCapabilities(work_done_progress=True),
            workspace=types.WorkspaceClientCapabilities(
                apply_edit=True,
                workspace_edit=types.WorkspaceEditClientCapabilities(
                    document_changes=True, resource_operations=[types.ResourceOperationKind.Create])),
            text_document=types.TextDocumentClientCapabilities(
                inline_completion=types.InlineCompletionClientCapabilities(),
                code_action=types.CodeActionClientCapabilities()))
        result = await self.client.initialize_async(types.InitializeParams(
            capabilities=caps, root_uri=self.root.as_uri(), initialization_options=options or {},
            workspace_folders=[types.WorkspaceFolder(uri=self.root.as_uri(), name=self.root.name)]))
        self.client.initialized(types.InitializedParams())
        await self.wait_indexed()
        return result

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.client.shutdown_async(None), 20)
            self.client.exit(None)
        finally:
            await self.client.stop()

    async def request(self, method: str, params: Any, msg_id: int | None = None) -> Any:
        return plain(await self.client.protocol.send_request_async(method, params, msg_id=msg_id))

    async def raw(self, method: str, params: Any) -> Any:
        """A request whose result is not structured into lsprotocol types. (lsprotocol's hook for code
        action results turns every CodeAction that has a command into a plain Command.)"""
        msg_id = next(self._ids)
        future = self.client.protocol.send_request(method, params, msg_id=msg_id)
        self.client.protocol._result_types.pop(msg_id, None)
        return plain(await asyncio.wrap_future(future))

    def send(self, method: str, params: Any) -> tuple[int, asyncio.Future[Any]]:
        """Send a request without waiting; returns its id (for cancelling) and its future."""
        msg_id = next(self._ids)
        return msg_id, asyncio.wrap_future(self.client.protocol.send_request(method, params, msg_id=msg_id))

    def cancel(self, msg_id: int) -> None:
        self.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))

    async def wait_partial(self, token: Any) -> list[Any]:
        while not self.partials.get(token):
            self.partial_event.clear()
            await self.partial_event.wait()
        return self.partials[token]

    async def wait_indexed(self) -> None:
        while True:
            status = await self.request("nexus/status", {})
            states = [f["state"] for f in status["folders"]]
            if states and all(s in ("ready", "error") for s in states):
                return
            await asyncio.sleep(0.05)

    def uri(self, rel: str) -> str:
        return (self.root / rel).as_uri()

    def open(self, rel: str, text: str | None = None, language: str = "python", version: int = 1) -> str:
        uri = self.uri(rel)
        if text is None:
            text = (self.root / rel).read_text(encoding="utf-8")
        self.files[uri] = text
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
            uri=uri, language_id=language, version=version, text=text)))
        return uri

    def change(self, uri: str, text: str, version: int) -> None:
        self.files[uri] = text
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [types.TextDocumentContentChangeWholeDocument(text=text)]))


def pos(line: int, character: int) -> dict[str, int]:
    return {"line": line, "character": character}


def line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.split("\n")):
        if needle in line:
            return number
    raise AssertionError(f"no line with {needle!r}")
