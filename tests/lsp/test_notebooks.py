"""Notebooks through jupyter-lsp: the real `nexus lsp` driven the way JupyterLab 4.6 + jupyterlab-lsp 5.3
drive it. A notebook is sent as a virtual document, ``<root>/.virtual_documents/<name>.ipynb``, its code
cells joined by two blank lines (``@jupyterlab/lsp``'s VirtualDocument), with ``rootUri`` at
``<root>/.virtual_documents`` when a notebook is the first document opened and no workspaceFolders.
Completion, hover and definition answer in that text; the notebook on disk is indexed, so references,
the graph and retrieval reach its cells."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from nexus.lsp_server.documents import Documents, path_of, virtual_of

from .conftest import FIXTURES, SERVER, capabilities, request, wait_indexed

MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")  # the module's server, on the module's loop
CELLS = [
    "from pkg.shapes import Circle, scale\nimport os",
    "%matplotlib inline",
    "message = scale(Circle(1.0), 2)\nprint(message)",
    "sca",
]
# What jupyterlab-lsp's Python transclusions send for a line magic.
SENT = {"%matplotlib inline": 'get_ipython().run_line_magic("matplotlib", " inline")'}


def virtual_text(cells: list[str]) -> str:
    """The virtual document's text as @jupyterlab/lsp builds it: each cell's lines then a newline, the
    blocks joined by two more."""
    return "\n\n".join(SENT.get(cell, cell) + "\n" for cell in cells)


def notebook_json(cells: list[str]) -> str:
    return json.dumps({
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [],
                   "source": cell.splitlines(keepends=True)} for i, cell in enumerate(cells)]
        + [{"cell_type": "markdown", "id": "md", "metadata": {}, "source": ["# Notes"]}],
        "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5})


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("nb") / "project"
    shutil.copytree(FIXTURES, root)
    # The notebook on disk uses the package the way the test's virtual document does (less the last,
    # unfinished cell); jupyter-lsp's shadow copy of it is Python text under a notebook's name.
    (root / "analysis.ipynb").write_text(notebook_json(CELLS[:3]), encoding="utf-8")
    shadow = root / ".virtual_documents"
    shadow.mkdir()
    (shadow / "analysis.ipynb").write_text(virtual_text(CELLS), encoding="utf-8")
    return root


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, workspace: Path) -> AsyncIterator[None]:
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=capabilities(), root_uri=(workspace / ".virtual_documents").as_uri(), workspace_folders=None,
        process_id=None, initialization_options=None))
    await wait_indexed(lsp_client)
    yield
    await lsp_client.shutdown_session()


def notebook_uri(root: Path) -> str:
    return (root / ".virtual_documents" / "analysis.ipynb").as_uri()


def open_notebook(client: LanguageClient, root: Path, text: str, version: int = 1) -> str:
    target = notebook_uri(root)
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=target, language_id="python", version=version, text=text)))
    return target


def line_of(text: str, needle: str) -> tuple[int, int]:
    for row, line in enumerate(text.split("\n")):
        if needle in line:
            return row, line.index(needle)
    raise AssertionError(f"{needle!r} not in the text")


def test_virtual_document_names_map_to_the_files_they_stand_for() -> None:
    root = Path("/work/project")
    assert path_of("file:///work/project/.virtual_documents") == root
    assert path_of("file:///work/project/.virtual_documents/analysis.ipynb") == root / "analysis.ipynb"
    assert path_of("file:///work/project/.virtual_documents/sub/dir/a%20b.ipynb") == root / "sub/dir/a b.ipynb"
    foreign = virtual_of("file:///work/project/.virtual_documents/analysis.ipynb.python-1(javascript).js")
    assert foreign is not None and foreign.real == root / "analysis.ipynb" and foreign.language == "javascript"
    older = virtual_of("file:///work/project/.virtual_documents/analysis.ipynb.python-cpp.cpp")
    assert older is not None and older.language == "cpp"
    mirrored = virtual_of("file:///work/project/.virtual_documents/src/app.py")
    assert mirrored is not None and mirrored.real == root / "src/app.py" and mirrored.language == "python"
    assert virtual_of("file:///work/project/src/app.py") is None
    assert path_of("file:///work/project/src/app.py") == root / "src/app.py"


def test_a_notebooks_cells_take_the_language_the_client_names() -> None:
    documents = Documents()
    for uri in ("file:///p/.virtual_documents/a.ipynb", "file:///p/a.ipynb"):  # on-disk and in-memory clients
        doc = documents.open(types.TextDocumentItem(uri, "python", 1, "x = 1\n"), "a.ipynb")
        assert doc.language == "python" and doc.virtual, uri
        assert doc.source.tree is not None
    cpp = documents.open(types.TextDocumentItem("file:///p/.virtual_documents/b.ipynb", "c++", 1, "int x;\n"), "b.ipynb")
    assert cpp.language == "cpp"
    plain = documents.open(types.TextDocumentItem("file:///p/app.py", "python", 1, "x = 1\n"), "app.py")
    assert not plain.virtual


@MODULE_LOOP
async def test_a_virtual_documents_root_opens_the_real_workspace(client: LanguageClient,
                                                               workspace: Path) -> None:
    status = await request(client, "nexus/status", {})
    (folder,) = status["folders"]
    assert Path(folder["root"]) == workspace.resolve() and folder["state"] == "ready", folder
    assert folder["error"] is None
    found = await request(client, "nexus/search", {"query": "analysis", "mode": "files"})
    paths = [hit.get("path") or hit.get("uri", "") for hit in found]
    assert any(p.endswith("analysis.ipynb") for p in paths), found
    assert not any(".virtual_documents" in p for p in paths), paths  # the shadow copies are never indexed


@MODULE_LOOP
async def test_completion_hover_and_definition_in_a_notebook(client: LanguageClient,
                                                             workspace: Path) -> None:
    text = virtual_text(CELLS)
    target = open_notebook(client, workspace, text)
    row, col = len(text.split("\n")) - 2, 3
    assert text.split("\n")[row] == "sca"
    completion = await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(target), types.Position(row, col)))
    labels = [item.label for item in (completion.items if isinstance(completion, types.CompletionList) else completion or [])]
    assert "scale" in labels, labels[:20]

    row, col = line_of(text, "scale(Circle")
    hover = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(target), types.Position(row, col + 1)))
    assert hover is not None
    contents = hover.contents.value if isinstance(hover.contents, types.MarkupContent) else str(hover.contents)
    assert "scale" in contents and "factor" in contents, contents

    found = await client.text_document_definition_async(types.DefinitionParams(
        types.TextDocumentIdentifier(target), types.Position(row, col + 1)))
    locations = found if isinstance(found, list) else [found]
    uris = {loc.uri if isinstance(loc, types.Location) else loc.target_uri for loc in locations if loc}
    assert (workspace / "pkg" / "shapes.py").resolve().as_uri() in {Path(path_of(u) or "").resolve().as_uri() for u in uris}, uris

    # A name defined in an earlier cell resolves inside the notebook's own text.
    row, col = line_of(text, "print(message)")
    found = await client.text_document_definition_async(types.DefinitionParams(
        types.TextDocumentIdentifier(target), types.Position(row, col + len("print(") + 1)))
    locations = found if isinstance(found, list) else [found]
    assert [(loc.uri, loc.range.start.line) for loc in locations] == [(target, line_of(text, "message =")[0])]
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(target)))


@MODULE_LOOP
async def test_the_notebook_on_disk_is_a_caller_and_a_reference(client: LanguageClient,
                                                                workspace: Path) -> None:
    graph = await request(client, "nexus/graph", {"symbol": "scale", "mode": "callers"})
    callers = {c["path"] for c in graph["callers"]}
    assert "analysis.ipynb" in callers, graph

    util = workspace / "pkg" / "shapes.py"
    text = util.read_text(encoding="utf-8")
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=util.as_uri(), language_id="python", version=1, text=text)))
    row, col = line_of(text, "def scale")
    refs = await client.text_document_references_async(types.ReferenceParams(
        text_document=types.TextDocumentIdentifier(util.as_uri()), position=types.Position(row, col + 4),
        context=types.ReferenceContext(include_declaration=False)))
    where = {(Path(path_of(r.uri) or "").name, r.range.start.line) for r in refs or []}
    # Line 3 of the notebook's indexed text (its code cells joined) is the call in its third cell.
    assert ("analysis.ipynb", 3) in where, where
