"""TypeScript, JavaScript, Java and C++ from the syntax tree and the index: exact locations and items."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import open_doc
from .test_python import pos, where

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def definition(client: LanguageClient, target: str, line: int, col: int) -> list[types.Location]:
    return await client.text_document_definition_async(types.DefinitionParams(
        types.TextDocumentIdentifier(target), pos(line, col)))


async def references(client: LanguageClient, target: str, line: int, col: int) -> list[types.Location]:
    return await client.text_document_references_async(types.ReferenceParams(
        text_document=types.TextDocumentIdentifier(target), position=pos(line, col),
        context=types.ReferenceContext(include_declaration=True)))


async def test_typescript_import_and_local_scopes(client: LanguageClient, project: Path) -> None:
    target = open_doc(client, project, "web/app.ts", "typescript")
    # `debounce(` on line 2 -> the exported function in util.ts, through the import.
    assert where(await definition(client, target, 2, 35), project) == [("web/util.ts", 1, 16, 1, 24)]
    # `name` in the template string -> the local const, not User.name.
    assert where(await definition(client, target, 7, 18), project) == [("web/app.ts", 5, 8, 5, 12)]
    assert where(await references(client, target, 5, 9), project) == [("web/app.ts", 5, 8, 5, 12),
                                                                     ("web/app.ts", 7, 18, 7, 22)]
    refs = where(await references(client, target, 0, 10), project)
    assert refs == [("web/app.ts", 0, 9, 0, 17), ("web/app.ts", 2, 33, 2, 41), ("web/util.ts", 1, 16, 1, 24)]


async def test_javascript_members_and_hover(client: LanguageClient, project: Path) -> None:
    target = open_doc(client, project, "web/lib.js", "javascript")
    # `this.count` -> the class's own field assignment is no symbol; `add(` -> the function.
    assert where(await definition(client, target, 11, 18), project) == [("web/lib.js", 1, 9, 1, 12)]
    hover = await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(target), pos(11, 18)))
    assert hover is not None
    assert hover.contents.value == "```javascript\nfunction add(a, b)\n```\n\n---\n\n*function*\n\nAdds two numbers."
    result = await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(target), pos(11, 9)))
    labels = [item.label for item in result.items]
    assert labels[:2] == ["constructor", "increment"] or "increment" in labels


async def test_java_cross_file(client: LanguageClient, project: Path) -> None:
    target = open_doc(client, project, "java/com/example/App.java", "java")
    assert where(await definition(client, target, 4, 8), project) == [
        ("java/com/example/Greeter.java", 3, 13, 3, 20)]
    assert where(await definition(client, target, 5, 35), project) == [
        ("java/com/example/Greeter.java", 10, 18, 10, 23)]
    # A local variable, with a non-ASCII string before it on the line.
    assert where(await references(client, target, 4, 17), project) == [
        ("java/com/example/App.java", 4, 16, 4, 23), ("java/com/example/App.java", 5, 27, 5, 34)]


async def test_cpp_header_definition_and_symbols(client: LanguageClient, project: Path) -> None:
    target = open_doc(client, project, "cpp/main.cpp", "cpp")
    # `Point` -> the struct in the included header.
    assert where(await definition(client, target, 14, 9), project) == [("cpp/geometry.h", 5, 7, 5, 12)]
    # `π` (one UTF-16 unit, two UTF-8 bytes) -> its declaration.
    assert where(await definition(client, target, 16, 50), project) == [("cpp/main.cpp", 15, 15, 15, 16)]
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(
        types.TextDocumentIdentifier(target)))
    assert [(s.name, s.kind, [c.name for c in s.children or []]) for s in symbols] == [
        ("geo", types.SymbolKind.Namespace, ["distance"]), ("main", types.SymbolKind.Function, [])]


async def test_folding_and_selection(client: LanguageClient, project: Path) -> None:
    target = open_doc(client, project, "web/util.ts", "typescript")
    folds = await client.text_document_folding_range_async(types.FoldingRangeParams(types.TextDocumentIdentifier(target)))
    assert [(f.start_line, f.end_line) for f in folds] == [(1, 6), (3, 5), (9, 10)]
    ranges = await client.text_document_selection_range_async(types.SelectionRangeParams(
        types.TextDocumentIdentifier(target), [pos(5, 12)]))
    chain = []
    current: types.SelectionRange | None = ranges[0]
    while current is not None:
        r = current.range
        chain.append((r.start.line, r.start.character, r.end.line, r.end.character))
        current = current.parent
    assert chain[:3] == [(5, 12, 5, 22), (5, 12, 5, 30), (5, 4, 5, 30)]
    assert chain[-1] == (0, 0, 12, 0)


async def test_workspace_symbols_fuzzy(client: LanguageClient, project: Path) -> None:
    result = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="greetr"))
    names = [(s.name, s.kind) for s in result]
    assert names[0] == ("Greeter", types.SymbolKind.Class)
    result = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="distance"))
    assert {(s.location.uri.rsplit("/", 1)[1], s.location.range.start.line) for s in result} == {
        ("geometry.h", 10), ("main.cpp", 5)}
