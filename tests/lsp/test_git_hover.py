"""The hover's "last changed by" line: the real server on a real git repository, setting on; and off by
default in the same repository."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from nexus.engine.vcs import GitSettings, last_change
from tests.support.gitrepo import GitRepo

from .conftest import FIXTURES, SERVER, open_doc, start

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lsp-git") / "project"
    shutil.copytree(FIXTURES, root)
    repo = GitRepo(root)
    repo.commit("Import the fixture project")
    text = (root / "web/lib.js").read_text()
    repo.commit("Document add", {"web/lib.js": text.replace("Adds two numbers.", "Adds two numbers (documented).")})
    (root / ".nexus.toml").write_text("[git]\nblame_hover = true\n")
    return root


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, project: Path) -> AsyncIterator[None]:
    await start(lsp_client, project)
    yield
    await lsp_client.shutdown_session()


async def test_hover_names_who_last_changed_the_line(client: LanguageClient, project: Path) -> None:
    target = open_doc(client, project, "web/lib.js", "javascript")
    lines = (project / "web/lib.js").read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if "= add(" in line)
    col = lines[row].index("add(")
    hover = await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(target),
                                                                      types.Position(row, col)))
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "*Last changed by Ada Lovelace, " in hover.contents.value
    assert hover.contents.value.index("function add") < hover.contents.value.index("Last changed")


async def test_off_by_default_and_uncommitted_lines(project: Path) -> None:
    assert GitSettings().blame_hover is False
    lines = (project / "web/lib.js").read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if "documented" in line)
    found = last_change(project, "web/lib.js", row + 1, lines[row], now=1_700_000_000 + 30 * 86400)
    assert found is not None and found.endswith("Document add") and "days ago" in found
    assert last_change(project, "web/lib.js", row + 1, "an unsaved edit") == "Not committed yet"
    assert last_change(project, "web/new.js", 1) is None
