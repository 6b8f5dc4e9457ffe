"""Positions in UTF-16 and UTF-8, incremental edits of unsaved text, watched files, progress."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from .conftest import SERVER, open_doc, request, start, uri
from .test_python import pos, where

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=SERVER))
async def utf8_client(lsp_client: LanguageClient, project: Path):  # type: ignore[no-untyped-def]
    result = await start(lsp_client, project, encodings=["utf-16", "utf-8"])
    assert result.capabilities.position_encoding == types.PositionEncodingKind.Utf8
    yield
    await lsp_client.shutdown_session()


async def test_utf16_default(client: LanguageClient, project: Path) -> None:
    target = open_doc(client, project, "web/app.ts", "typescript")
    refs = await client.text_document_references_async(types.ReferenceParams(
        text_document=types.TextDocumentIdentifier(target), position=pos(2, 27),
        context=types.ReferenceContext(include_declaration=True)))
    # `save` after "café" and "☕😀" (😀 is two UTF-16 units).
    assert where(refs, project) == [("web/app.ts", 2, 26, 2, 30), ("web/app.ts", 6, 2, 6, 6)]


async def test_utf8_negotiated(utf8_client: LanguageClient, project: Path) -> None:
    client = utf8_client
    target = open_doc(client, project, "web/app.ts", "typescript")
    refs = await client.text_document_references_async(types.ReferenceParams(
        text_document=types.TextDocumentIdentifier(target), position=pos(2, 31),
        context=types.ReferenceContext(include_declaration=True)))
    assert where(refs, project) == [("web/app.ts", 2, 31, 2, 35), ("web/app.ts", 6, 2, 6, 6)]
    found = await client.text_document_definition_async(types.DefinitionParams(
        types.TextDocumentIdentifier(target), pos(2, 40)))
    assert where(found, project) == [("web/util.ts", 1, 16, 1, 24)]
    # Python through jedi in UTF-8: `circle` after "größe = \"ünï\"; ".
    main = open_doc(client, project, "pkg/main.py", "python")
    refs = await client.text_document_references_async(types.ReferenceParams(
        text_document=types.TextDocumentIdentifier(main), position=pos(2, 20),
        context=types.ReferenceContext(include_declaration=True)))
    assert where(refs, project) == [("pkg/main.py", 2, 19, 2, 25), ("pkg/main.py", 12, 6, 12, 12),
                                    ("pkg/main.py", 12, 28, 12, 34)]


async def test_incremental_edits_after_non_ascii(client: LanguageClient, project: Path) -> None:
    target = open_doc(client, project, "web/scratch.ts", "typescript", "const ü = 1; // 😀\n")
    # Insert after the emoji (UTF-16 column 18 = after "😀"), then a new function on a new line.
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=target, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(pos(0, 18), pos(0, 18)), text=" ok\nfunction ünïcode() { return ü; }")]))
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(
        types.TextDocumentIdentifier(target)))
    assert [(s.name, s.selection_range) for s in symbols] == [
        ("ü", types.Range(pos(0, 6), pos(0, 7))), ("ünïcode", types.Range(pos(1, 9), pos(1, 16)))]
    found = await client.text_document_definition_async(types.DefinitionParams(
        types.TextDocumentIdentifier(target), pos(1, 28)))
    assert where(found, project) == [("web/scratch.ts", 0, 6, 0, 7)]


async def test_unsaved_text_reaches_the_index(client: LanguageClient, project: Path) -> None:
    target = open_doc(client, project, "web/fresh.ts", "typescript", "export function unsavedThing() {}\n")
    while True:  # the index follows the buffer after a short debounce
        result = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="unsavedThing"))
        if result:
            break
        await request(client, "nexus/status", {})  # a round trip, then look again
    assert result[0].location.uri == target


async def test_watched_file_created(client: LanguageClient, project: Path) -> None:
    path = project / "web" / "created.js"
    path.write_text("function createdOnDisk() {}\n", encoding="utf-8")
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
        changes=[types.FileEvent(uri=path.as_uri(), type=types.FileChangeType.Created)]))
    hits = await request(client, "nexus/search", {"query": "createdOnDisk", "mode": "symbols"})
    while not hits:
        hits = await request(client, "nexus/search", {"query": "createdOnDisk", "mode": "symbols"})
    assert hits[0]["uri"] == path.as_uri() and hits[0]["kind"] == "function"
    assert hits[0]["range"] == {"start": {"line": 0, "character": 9}, "end": {"line": 0, "character": 22}}
    path.unlink()
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
        changes=[types.FileEvent(uri=path.as_uri(), type=types.FileChangeType.Deleted)]))
    while await request(client, "nexus/search", {"query": "createdOnDisk", "mode": "symbols"}):
        pass


async def test_progress_and_custom_requests(client: LanguageClient, project: Path) -> None:
    reports = [r for values in client.progress_reports.values() for r in values]
    assert isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].title == "Indexing project"
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)
    status = await request(client, "nexus/status", {})
    assert status["positionEncoding"] == "utf-16"
    folder = status["folders"][0]
    assert folder["state"] == "ready" and folder["root"] == str(project.resolve())
    assert folder["index"]["files"] >= 10
    text = await request(client, "nexus/search", {"query": "square units", "mode": "text", "limit": 3})
    assert text[0]["uri"] == uri(project, "pkg/shapes.py") and "square units" in text[0]["preview"]
    files = await request(client, "nexus/search", {"query": "geometry", "mode": "files"})
    assert files[0]["name"] == "cpp/geometry.h"
    with pytest.raises(Exception, match="nexus/search expects"):
        await request(client, "nexus/search", {"query": 3, "mode": "nope"})
    started = await request(client, "nexus/reindex", {})
    assert started == {"started": [project.resolve().as_uri()]}
    updated = await request(client, "nexus/reindex", {"uri": uri(project, "pkg/shapes.py")})
    assert updated == {"updated": ["pkg/shapes.py"], "removed": []}
