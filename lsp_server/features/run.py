"""``nexus/run``: run a document's file as its language's runner would, or code in a Jupyter kernel
(nexus.kernels), and stream its output.

Params ``{language?, code?, textDocument?, range?, cell?, position?, args?, cwd?, sessionId?, timeout?,
partialResultToken?}``: ``code`` (with ``language``, default python), a document's ``range`` (the
selection, dedented) or, with ``cell: true``, the ``# %%`` cell (``// %%`` in C-family languages)
containing ``position`` run as snippets in the document's session. A document alone is Run File: its
file on disk runs like ``python FILE ARGS`` in the sandbox (``args``; ``cwd``, default the file's folder),
the exit code is the program's, and its ``errors`` are published as diagnostics (source ``nexus run``)
on the files they name, until the next run or edit. Outputs stream as partial results ``{output:
OutputItem}``; the result is ``{output, exitCode, executionTime, outputs}`` (plus ``truncated``,
``reason``, ``sessionId``, and ``errors`` for a file).

One ExecutionService per server, started by the first run. Runs from a document share that
document's session (variables persist between cells, as in a notebook; its kernel starts in the
document's folder) until the document is closed; ``code`` runs without a ``sessionId`` get a fresh
kernel each. Cancelling the request interrupts the kernel.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import textwrap
from pathlib import Path
from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

from nexus.engine.config import load_settings
from nexus.engine.errors import NexusError
from nexus.engine.languages import LANGUAGES

from ..assist import (
    AssistState,
    failure,
    lsp_range,
    params_of,
    position,
    progress_token,
    send_partial,
    state,
    text_document_uri,
)
from ..documents import Document as LspDocument
from ..server import NexusServer

log = logging.getLogger(__name__)

METHOD = "nexus/run"
# The kernel that runs each language, and the languages whose cell marker is `// %%`: from the registry.
KERNEL_LANGUAGES = {lang.name: lang.kernel for lang in LANGUAGES if lang.kernel is not None}
SLASH_COMMENTS = {lang.name for lang in LANGUAGES if lang.line_comment == "//"}
_MARKERS = {"#": re.compile(r"^\s*#\s*%%(.*)$"), "//": re.compile(r"^\s*//\s*%%(.*)$")}
MAX_TIMEOUT = 24 * 3600


def register(server: NexusServer) -> None:
    published: dict[str, set[str]] = {}  # document uri -> uris its last file run put diagnostics on

    @server.feature(METHOD)
    async def nexus_run(ls: NexusServer, params: Any) -> dict[str, Any]:
        args = params_of(params)
        token = progress_token(args)
        timeout = args.get("timeout")
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                    or not 0 < timeout <= MAX_TIMEOUT):
            raise JsonRpcInvalidParams(message=f"timeout must be a number of seconds in (0, {MAX_TIMEOUT}]")
        file_run = _file_to_run(ls, args)
        if file_run is not None:
            return await _run_file(ls, file_run, timeout, token, published)
        code, language, session_id, places = _what_to_run(ls, args)
        from nexus.kernels import ExecutionResult

        try:
            service = await kernels(ls)
            if session_id is not None and places:
                await _prepare_session(service, session_id, language, places)
            result: Any = None
            async for event in service.stream(code, language, session_id=session_id, timeout=timeout):
                if isinstance(event, ExecutionResult):
                    result = event
                else:
                    send_partial(ls, token, {"output": event.to_json()})
        except NexusError as exc:
            log.info("nexus/run: %s", exc)
            raise failure(exc) from exc
        assert result is not None
        return result.to_json()  # type: ignore[no-any-return]

    background: set[asyncio.Task[None]] = set()  # strong references: the loop keeps only weak ones

    def closed(doc: LspDocument) -> None:
        assist = state(server)
        service = assist.kernels
        session = _session_id(doc.uri)
        if service is not None and any(s.session_id == session for s in service.sessions()):
            task = asyncio.ensure_future(_shutdown_quietly(service, session))
            background.add(task)
            task.add_done_callback(background.discard)

    async def stop_kernels() -> None:
        """Every kernel stops before the shutdown response (the server's shutdown awaits this)."""
        assist = state(server)
        if assist.kernels is None:
            return
        try:
            await asyncio.wait_for(assist.kernels.close(), 15)
        except (TimeoutError, NexusError) as exc:
            log.warning("kernels did not all stop: %s", exc or "timed out after 15 s")

    server.on("closed", closed)
    server.cleanups.append(stop_kernels)


def _session_id(uri: str) -> str:
    return f"lsp:{uri}"


async def _shutdown_quietly(service: Any, session_id: str) -> None:
    try:
        await service.shutdown(session_id)
    except NexusError as exc:
        log.info("closing session %s: %s", session_id, exc)


async def kernels(ls: NexusServer) -> Any:
    """The server's ExecutionService, started on first use (kernels run with the first folder as their
    writable workspace)."""
    assist: AssistState = state(ls)
    async with assist.kernels_lock:
        if assist.kernels is None:
            from nexus.kernels import ExecutionService, kernel_settings

            folders = list(ls.folders)
            root = folders[0].root if folders else None
            settings = await asyncio.to_thread(lambda: kernel_settings(load_settings(root)))
            settings = dataclasses.replace(settings, workspace=root)
            service = ExecutionService(settings)
            await service.start()
            assist.kernels = service
    return assist.kernels


async def _prepare_session(service: Any, session_id: str, language: str, places: tuple[Path, ...]) -> None:
    """A new document session starts in the document's folder; in Python that folder and the workspace
    folder are importable (``from pkg.module import x`` works as it does from the project root)."""
    if any(s.session_id == session_id for s in service.sessions()):
        return
    await service.open_session(language, session_id)
    folder = places[0]
    paths = [str(p) for p in dict.fromkeys(places)]
    setup = {
        "python": f"import os as _os, sys as _sys\n_os.chdir({str(folder)!r})\n"
                  f"_sys.path[:0] = [p for p in {paths!r} if p not in _sys.path]\ndel _os, _sys",
        "javascript": f"process.chdir({json.dumps(str(folder))})",
        "typescript": f"process.chdir({json.dumps(str(folder))})",
    }.get(language)
    if setup is not None:
        result = await service.execute(setup, language, session_id=session_id, timeout=30)
        if result.exit_code != 0:
            log.warning("could not start session %s in %s: %s", session_id, folder, result.output)


def _what_to_run(ls: NexusServer, args: dict[str, Any]) -> tuple[str, str, str | None, tuple[Path, ...]]:
    """(code, kernel language, session id or None, the document's folder and its workspace folder)."""
    session = args.get("sessionId")
    if session is not None and (not isinstance(session, str) or not session or len(session) > 256):
        raise JsonRpcInvalidParams(message="sessionId must be a non-empty string")
    language = args.get("language")
    if language is not None and (not isinstance(language, str) or not language.strip()):
        raise JsonRpcInvalidParams(message="language must be a language name (python, javascript, ...)")
    code = args.get("code")
    if code is not None:
        if not isinstance(code, str):
            raise JsonRpcInvalidParams(message="code must be a string")
        return code, language or "python", session, ()
    if args.get("textDocument") is None:
        raise JsonRpcInvalidParams(message="nexus/run expects {code, language?} or {textDocument, range? | "
                                           "cell: true, position}")
    doc = ls.document(text_document_uri(args["textDocument"]))
    if language is None:
        language = KERNEL_LANGUAGES.get(doc.language or "")
        if language is None:
            raise JsonRpcInvalidParams(message=f"cannot tell which kernel runs {doc.uri}: pass language")
    if args.get("cell"):
        if args.get("position") is None:
            raise JsonRpcInvalidParams(message="cell: true needs the position inside the cell")
        row = doc.lines.row_col(position(args["position"]))[0]
        code = cell_at(doc.text, row, "//" if doc.language in SLASH_COMMENTS else "#")
    elif args.get("range") is not None:
        rng = lsp_range(args["range"])
        start, end = doc.lines.offset(rng.start), doc.lines.offset(rng.end)
        if end < start:
            start, end = end, start
        code = textwrap.dedent(doc.lines.data[start:end].decode("utf-8", "replace"))
    else:
        code = doc.text
    places: tuple[Path, ...] = ()
    if doc.path is not None:
        workspace = ls.folder_of(doc)
        places = (doc.path.parent,) + ((workspace.root,) if workspace is not None else ())
    return code, language, session or _session_id(doc.uri), places


@dataclasses.dataclass(frozen=True)
class _FileRun:
    doc: LspDocument
    path: Path
    language: str | None
    args: tuple[str, ...]
    cwd: Path | None


def _file_to_run(ls: NexusServer, args: dict[str, Any]) -> _FileRun | None:
    """Run File: a document on disk with no code, range or cell; None for a snippet run."""
    if args.get("code") is not None or args.get("textDocument") is None or args.get("cell") \
            or args.get("range") is not None:
        if args.get("args") is not None or args.get("cwd") is not None:
            raise JsonRpcInvalidParams(message="args and cwd are for running a whole document's file")
        return None
    doc = ls.document(text_document_uri(args["textDocument"]))
    if doc.path is None or not doc.path.is_file():
        return None  # an unsaved document runs as a snippet
    argv = args.get("args") or []
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        raise JsonRpcInvalidParams(message="args must be a list of strings")
    cwd = args.get("cwd")
    if cwd is not None and (not isinstance(cwd, str) or not cwd):
        raise JsonRpcInvalidParams(message="cwd must be a folder path")
    folder = ls.folder_of(doc)
    base = folder.root if folder is not None else doc.path.parent
    from nexus.kernels.programs import UnknownFileTypeError, language_of

    language = None
    try:
        language_of(doc.path, None)
    except UnknownFileTypeError:  # an extension the registry does not know: the editor's language says
        language = KERNEL_LANGUAGES.get(doc.language or "") or args.get("language")
    return _FileRun(doc, doc.path, language, tuple(argv), (base / cwd) if cwd else None)


async def _run_file(ls: NexusServer, run: _FileRun, timeout: float | None, token: Any,
                    published: dict[str, set[str]]) -> dict[str, Any]:
    from nexus.kernels import ExecutionResult, Stream

    try:
        service = await kernels(ls)
        on_disk = await asyncio.to_thread(run.path.read_text, encoding="utf-8", errors="replace")
        if on_disk != run.doc.text:
            note = Stream("stderr", f"[nexus: running {run.path.name} as saved; unsaved changes are not part of "
                                    "this run]\n")
            send_partial(ls, token, {"output": note.to_json()})
        result: Any = None
        async for event in service.stream_file(run.path, run.args, language=run.language, cwd=run.cwd,
                                               timeout=timeout):
            if isinstance(event, ExecutionResult):
                result = event
            else:
                send_partial(ls, token, {"output": event.to_json()})
    except NexusError as exc:
        log.info("nexus/run: %s", exc)
        raise failure(exc) from exc
    assert result is not None
    _publish(ls, run.doc.uri, result.errors or (), published)
    return result.to_json()  # type: ignore[no-any-return]


def _publish(ls: NexusServer, doc_uri: str, errors: Any, published: dict[str, set[str]]) -> None:
    """Diagnostics for a file run's errors, on each file they name; the previous run's are cleared."""
    from lsprotocol import types

    by_uri: dict[str, list[types.Diagnostic]] = {}
    for error in errors:
        line = max(error.line - 1, 0)
        start = max((error.column or 1) - 1, 0)
        end = start + 1 if error.column else 10_000
        span = types.Range(types.Position(line, start), types.Position(line, end))
        diagnostic = types.Diagnostic(span, error.message, severity=types.DiagnosticSeverity.Error,
                                      source="nexus run")
        by_uri.setdefault(Path(error.path).as_uri(), []).append(diagnostic)
    for uri in published.get(doc_uri, set()) - set(by_uri):
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))
    for uri, found in by_uri.items():
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, found))
    published[doc_uri] = set(by_uri)


def cell_at(text: str, row: int, leader: str = "#") -> str:
    """The code of the ``# %%`` cell containing ``row`` (without its marker line); the whole text when
    there is no marker; the lines before the first marker form a cell of their own."""
    lines = text.split("\n")
    pattern = _MARKERS[leader]
    markers = [i for i, line in enumerate(lines) if "%%" in line and pattern.match(line)]
    if not markers:
        return text
    starts = [m for m in markers if m <= row]
    if not starts:
        return "\n".join(lines[:markers[0]])
    start = starts[-1]
    following = [m for m in markers if m > start]
    end = following[0] if following else len(lines)
    return "\n".join(lines[start + 1:end])
