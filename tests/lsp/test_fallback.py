"""Python answered from the syntax tree and the index, as when jedi is late: a server whose jedi budgets
are zero. Unsaved code counts (names bound in the buffer come from the live tree), the rest of the file
comes from the index."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from .conftest import SERVER, open_doc, request, start
from .test_python import pos, where

pytestmark = pytest.mark.asyncio(loop_scope="module")

SHAPES = (Path(__file__).parent / "fixtures" / "project" / "pkg" / "shapes.py").read_text(encoding="utf-8")
# Unsaved: a constant at the top and a method in Circle, typed after the file was indexed.
EDITED = SHAPES.replace("UNIT = 1.0\n", "UNIT = 1.0\nFRESH_CONSTANT = 3\n").replace(
    "    def area(self) -> float:\n        return math.pi",
    "    def grow(self, by: float) -> None:\n        local_total = by * 2\n        self.\n\n"
    "    def area(self) -> float:\n        return math.pi")


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=SERVER))
async def index_client(lsp_client: LanguageClient, project: Path):  # type: ignore[no-untyped-def]
    await start(lsp_client, project, options={"budgets": {"completion": 0, "definition": 0}})
    yield
    await lsp_client.shutdown_session()


def line_of(text: str, needle: str) -> int:
    return text.split("\n").index(next(line for line in text.split("\n") if needle in line))


async def complete(client: LanguageClient, target: str, line: int, col: int) -> types.CompletionList:
    result = await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(target), pos(line, col)))
    assert isinstance(result, types.CompletionList)
    return result


async def test_members_of_the_enclosing_class(index_client: LanguageClient, project: Path) -> None:
    target = open_doc(index_client, project, "pkg/fallback_shapes.py", "python", EDITED)
    row = line_of(EDITED, "        self.")
    result = await complete(index_client, target, row, len("        self."))
    assert result.is_incomplete  # the index's answer: the client asks again on the next keystroke
    labels = [item.label for item in result.items]
    # Circle's own methods first (grow exists only in the buffer), then names used after a dot.
    assert labels[:3] == ["__init__", "grow", "area"]
    assert "radius" in labels and "pi" in labels
    assert "local_total" not in labels and "FRESH_CONSTANT" not in labels


async def test_names_in_scope_live_and_indexed(index_client: LanguageClient, project: Path) -> None:
    text = EDITED.replace("        self.\n", "        lo\n")
    target = open_doc(index_client, project, "pkg/fallback_scope.py", "python", text)
    row = line_of(text, "        lo")
    result = await complete(index_client, target, row, len("        lo"))
    labels = [item.label for item in result.items]
    assert labels[0] == "local_total"
    result = await complete(index_client, target, row, len("        "))  # nothing typed yet
    labels = [item.label for item in result.items]
    assert labels[:3] == ["self", "by", "local_total"]  # the method's scope, in order
    for name in ("FRESH_CONSTANT", "UNIT", "Shape", "Circle", "scale", "math"):
        assert name in labels
    assert labels.index("math") < labels.index("while")  # keywords last


async def test_definition_from_the_tree_and_the_index(index_client: LanguageClient, project: Path) -> None:
    text = EDITED.replace("        self.\n", "        print(local_total, FRESH_CONSTANT, scale)\n")
    target = open_doc(index_client, project, "pkg/fallback_def.py", "python", text)
    row = line_of(text, "print(local_total")
    ident = types.TextDocumentIdentifier(target)
    found = await index_client.text_document_definition_async(types.DefinitionParams(ident, pos(row, 15)))
    assert where(found, project) == [("pkg/fallback_def.py", row - 1, 8, row - 1, 19)]
    found = await index_client.text_document_definition_async(types.DefinitionParams(ident, pos(row, 30)))
    assert where(found, project) == [("pkg/fallback_def.py", 5, 0, 5, 14)]
    main = open_doc(index_client, project, "pkg/main.py", "python")
    found = await index_client.text_document_definition_async(types.DefinitionParams(
        types.TextDocumentIdentifier(main), pos(8, 18)))
    assert where(found, project) == [("pkg/shapes.py", 23, 4, 23, 9)]


async def test_module_members_and_builtins(index_client: LanguageClient, project: Path) -> None:
    text = "import pkg.shapes as geo\n\ngeo.\nle\n"
    target = open_doc(index_client, project, "pkg/fallback_module.py", "python", text)
    result = await complete(index_client, target, 2, 4)
    # The imported module's top-level names, from the index, before any guess.
    assert [item.label for item in result.items][:4] == ["UNIT", "Shape", "Circle", "scale"]
    result = await complete(index_client, target, 3, 2)
    labels = [item.label for item in result.items]
    assert "len" in labels and labels.index("len") < labels.index("else")


async def test_late_jedi_answer_serves_the_next_keystroke(index_client: LanguageClient, project: Path) -> None:
    text = "from pkg.shapes import Circle\n\nc = Circle(1.0)\nc.\n"
    target = open_doc(index_client, project, "pkg/fallback_late.py", "python", text)
    first = await complete(index_client, target, 3, 2)
    assert first.is_incomplete  # jedi had no time at all: the index answered
    status = (await request(index_client, "nexus/status", {}))["python"]
    while status["queued"]:  # jedi finishes the job nobody waits for any more
        status = (await request(index_client, "nexus/status", {}))["python"]
    assert status["recent"][-1] == "complete:ok"
    index_client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=target, version=2),
        content_changes=[types.TextDocumentContentChangePartial(range=types.Range(pos(3, 2), pos(3, 2)), text="a")]))
    second = await complete(index_client, target, 3, 3)
    # jedi's answer for `c.`, narrowed to the new prefix, without a new jedi job.
    assert not second.is_incomplete and [item.label for item in second.items] == ["area"]
    assert second.items[0].text_edit == types.TextEdit(types.Range(pos(3, 2), pos(3, 3)), "area")
    after = (await request(index_client, "nexus/status", {}))["python"]
    assert after["jobs"] == status["jobs"]
