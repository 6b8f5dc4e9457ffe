"""The semantic seam with the server's own defaults (no budgets given), as an editor user meets it:
on a freshly opened file the backend's answer is the answer, not the name-based index's, and the first
completion after opening is not empty while the backend is on its way."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from .conftest import SERVER, open_doc, request, start
from .test_python import pos, where

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=SERVER))
async def default_client(lsp_client: LanguageClient, project: Path):  # type: ignore[no-untyped-def]
    await start(lsp_client, project)
    yield
    await lsp_client.shutdown_session()


async def answers(client: LanguageClient, feature: str) -> dict[str, int]:
    found = (await request(client, "nexus/status", {}))["semantics"]["answers"]
    return found.get(feature, {})  # type: ignore[no-any-return]


async def test_definition_on_a_fresh_file_is_the_backends(default_client: LanguageClient, project: Path) -> None:
    # By name, `area` has two definitions (Shape.area, Circle.area); only inference knows it is Shape's.
    text = "from pkg.shapes import Shape\n\n\ndef measure(s: Shape) -> float:\n    return s.area()\n"
    target = open_doc(default_client, project, "pkg/fresh_definition.py", "python", text)
    found = await default_client.text_document_definition_async(types.DefinitionParams(
        types.TextDocumentIdentifier(target), pos(4, 15)))
    assert where(found, project) == [("pkg/shapes.py", 10, 8, 10, 12)]
    assert await answers(default_client, "definition") == {"jedi": 1}


async def test_first_completion_after_open_is_not_empty(default_client: LanguageClient, project: Path) -> None:
    text = "import os\n\nos.pa\n"
    target = open_doc(default_client, project, "pkg/fresh_completion.py", "python", text)
    result = await default_client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(target), pos(2, 5)))
    assert isinstance(result, types.CompletionList)
    labels = [item.label for item in result.items]
    assert "path" in labels and "pardir" in labels
    assert not result.is_incomplete  # jedi's own answer, waited for: the index knows nothing of os


async def test_other_languages_are_answered_by_the_index(default_client: LanguageClient, project: Path) -> None:
    before = await answers(default_client, "hover")
    target = open_doc(default_client, project, "web/app.ts", "typescript")
    await default_client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(target), pos(0, 10)))
    after = await answers(default_client, "hover")
    assert after.get("index", 0) == before.get("index", 0) + 1 and "jedi" not in after
