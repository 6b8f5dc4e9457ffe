"""Python through jedi (and the index where jedi has nothing): exact locations and items."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import open_doc, uri

pytestmark = pytest.mark.asyncio(loop_scope="module")


def pos(line: int, character: int) -> types.Position:
    return types.Position(line, character)


def where(locations: list[types.Location], root: Path) -> list[tuple[str, int, int, int, int]]:
    out = []
    for loc in locations:
        rel = Path(loc.uri.removeprefix("file://")).relative_to(root).as_posix()
        r = loc.range
        out.append((rel, r.start.line, r.start.character, r.end.line, r.end.character))
    return sorted(out)


async def test_completion_after_dot_and_resolve(client: LanguageClient, project: Path) -> None:
    text = "from pkg.shapes import Shape\n\nc = Shape()\nc.ar\n"
    target = open_doc(client, project, "pkg/scratch.py", "python", text)
    result = await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(target), pos(3, 4)))
    assert isinstance(result, types.CompletionList)
    labels = [item.label for item in result.items]
    assert labels == ["area"]
    item = result.items[0]
    assert item.kind == types.CompletionItemKind.Function
    assert item.text_edit == types.TextEdit(types.Range(pos(3, 2), pos(3, 4)), "area")
    resolved = await client.completion_item_resolve_async(item)
    assert resolved.documentation is not None
    assert "The area, in square units." in resolved.documentation.value


async def test_completion_mid_identifier(client: LanguageClient, project: Path) -> None:
    text = "from pkg.shapes import scale, Shape\n\nsca\n"
    target = open_doc(client, project, "pkg/scratch2.py", "python", text)
    result = await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(target), pos(2, 3)))
    assert "scale" in [item.label for item in result.items]


async def test_hover_signature_and_doc(client: LanguageClient, project: Path) -> None:
    target = open_doc(client, project, "pkg/main.py", "python")
    hover = await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(target), pos(8, 18)))
    assert hover is not None
    assert hover.contents.value == ("```python\nscale(shape: Shape, factor: float) -> float\n```\n\n---\n\n"
                                    "Scale a shape's area by ``factor``.")
    assert hover.range == types.Range(pos(8, 17), pos(8, 22))


async def test_signature_help(client: LanguageClient, project: Path) -> None:
    text = "from pkg.shapes import scale\n\nscale(None, \n"
    target = open_doc(client, project, "pkg/scratch3.py", "python", text)
    help_ = await client.text_document_signature_help_async(types.SignatureHelpParams(
        types.TextDocumentIdentifier(target), pos(2, 12)))
    assert help_ is not None
    assert help_.signatures[0].label == "scale(shape: Shape, factor: float) -> float"
    assert [p.label for p in help_.signatures[0].parameters] == ["shape: Shape", "factor: float"]
    assert help_.active_parameter == 1


async def test_definition_declaration_type_definition(client: LanguageClient, project: Path) -> None:
    target = open_doc(client, project, "pkg/main.py", "python")
    ident = types.TextDocumentIdentifier(target)
    definition = await client.text_document_definition_async(types.DefinitionParams(ident, pos(8, 18)))
    assert where(definition, project) == [("pkg/shapes.py", 23, 4, 23, 9)]
    declaration = await client.text_document_declaration_async(types.DeclarationParams(ident, pos(8, 18)))
    assert where(declaration, project) == [("pkg/main.py", 0, 31, 0, 36)]
    type_def = await client.text_document_type_definition_async(types.TypeDefinitionParams(ident, pos(12, 7)))
    assert where(type_def, project) == [("pkg/shapes.py", 15, 6, 15, 12)]


async def test_references_and_highlight(client: LanguageClient, project: Path) -> None:
    target = open_doc(client, project, "pkg/main.py", "python")
    ident = types.TextDocumentIdentifier(target)
    refs = await client.text_document_references_async(types.ReferenceParams(
        text_document=ident, position=pos(5, 5), context=types.ReferenceContext(include_declaration=True)))
    assert where(refs, project) == [("pkg/main.py", 5, 4, 5, 9), ("pkg/main.py", 12, 21, 12, 26)]
    refs = await client.text_document_references_async(types.ReferenceParams(
        text_document=ident, position=pos(8, 18), context=types.ReferenceContext(include_declaration=True)))
    assert where(refs, project) == [("pkg/main.py", 0, 31, 0, 36), ("pkg/main.py", 8, 17, 8, 22),
                                    ("pkg/shapes.py", 23, 4, 23, 9)]
    highlights = await client.text_document_document_highlight_async(types.DocumentHighlightParams(
        ident, pos(6, 5)))
    assert sorted((h.range.start.line, h.range.start.character) for h in highlights) == [(6, 4), (8, 8), (9, 11)]


async def test_rename(client: LanguageClient, project: Path) -> None:
    target = open_doc(client, project, "pkg/main.py", "python")
    ident = types.TextDocumentIdentifier(target)
    prepared = await client.text_document_prepare_rename_async(types.PrepareRenameParams(ident, pos(6, 5)))
    assert prepared == types.PrepareRenamePlaceholder(types.Range(pos(6, 4), pos(6, 9)), "count")
    edit = await client.text_document_rename_async(types.RenameParams(ident, pos(6, 5), "n"))
    assert edit is not None and edit.changes is not None
    assert sorted((e.range.start.line, e.range.start.character) for e in edit.changes[target]) == [(6, 4), (8, 8), (9, 11)]
    assert {e.new_text for e in edit.changes[target]} == {"n"}
    with pytest.raises(Exception, match="cannot be renamed"):
        await client.text_document_prepare_rename_async(types.PrepareRenameParams(ident, pos(12, 1)))
    with pytest.raises(Exception, match="not a valid identifier"):
        await client.text_document_rename_async(types.RenameParams(ident, pos(6, 5), "not valid"))


async def test_document_symbols_hierarchy(client: LanguageClient, project: Path) -> None:
    target = open_doc(client, project, "pkg/shapes.py", "python")
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(
        types.TextDocumentIdentifier(target)))

    def tree(items: list[types.DocumentSymbol]) -> list:  # type: ignore[type-arg]
        return [(s.name, s.kind, s.selection_range.start.line, tree(s.children or [])) for s in items]

    assert tree(symbols) == [
        ("UNIT", types.SymbolKind.Constant, 4, []),
        ("Shape", types.SymbolKind.Class, 7, [("area", types.SymbolKind.Method, 10, [])]),
        ("Circle", types.SymbolKind.Class, 15, [("__init__", types.SymbolKind.Method, 16, []),
                                                ("area", types.SymbolKind.Method, 19, [])]),
        ("scale", types.SymbolKind.Function, 23, []),
    ]


async def test_diagnostics_ruff_and_syntax(client: LanguageClient, project: Path) -> None:
    target = open_doc(client, project, "pkg/lint.py", "python", "import os\n\nprint(undefined_name)\n")
    found = sorted((d.source, d.code, d.severity, d.range.start.line, d.message)
                   for d in await wait_diagnostics(client, target))
    assert found == [("ruff", "F401", types.DiagnosticSeverity.Warning, 0, "`os` imported but unused"),
                     ("ruff", "F821", types.DiagnosticSeverity.Error, 2, "Undefined name `undefined_name`")]
    target = open_doc(client, project, "pkg/broken.py", "python", "def f(:\n    pass\n")
    found = [(d.source, d.range, d.message) for d in await wait_diagnostics(client, target)]
    assert found == [("nexus", types.Range(pos(0, 5), pos(0, 6)), "Syntax error: missing ')' after '('")]


async def wait_diagnostics(client: LanguageClient, target: str) -> list[types.Diagnostic]:
    while target not in client.diagnostics:
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return list(client.diagnostics[target])


async def test_workspace_symbols(client: LanguageClient, project: Path) -> None:
    result = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="Circle"))
    first = result[0]
    assert first.name == "Circle" and first.kind == types.SymbolKind.Class
    assert first.location.uri == uri(project, "pkg/shapes.py")
    assert first.location.range == types.Range(pos(15, 6), pos(15, 12))
