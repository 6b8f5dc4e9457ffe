"""The file-watcher fallback: a client that cannot register file watchers (no dynamic registration of
`workspace/didChangeWatchedFiles`) still sees files created, changed and deleted on disk, through the
server's own watchfiles thread; ignored folders stay out."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from .conftest import FIXTURES, SERVER, capabilities, request, wait_indexed

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("watch") / "project"
    shutil.copytree(FIXTURES, root)
    return root


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=SERVER))
async def plain_client(lsp_client: LanguageClient, watched: Path):  # type: ignore[no-untyped-def]
    caps = capabilities()
    assert caps.workspace is not None
    caps.workspace.did_change_watched_files = None  # like a client without file watching
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=caps, root_uri=watched.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=watched.as_uri(), name=watched.name)]))
    await wait_indexed(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def symbols(client: LanguageClient, name: str) -> list[dict]:  # type: ignore[type-arg]
    return await request(client, "nexus/search", {"query": name, "mode": "symbols"})  # type: ignore[no-any-return]


async def test_changes_on_disk_reach_the_index(plain_client: LanguageClient, watched: Path) -> None:
    client = plain_client
    ignored = watched / "node_modules" / "dep"
    ignored.mkdir(parents=True)
    (ignored / "vendored.js").write_text("function vendoredOnly() {}\n", encoding="utf-8")
    created = watched / "web" / "watched.js"
    created.write_text("function seenByWatcher() {}\n", encoding="utf-8")
    # No notification from the client: only the server's watcher can find these.
    while not await symbols(client, "seenByWatcher"):
        pass  # each round trip gives the watcher time; pytest-timeout bounds the wait
    hit = (await symbols(client, "seenByWatcher"))[0]
    assert hit["uri"] == created.as_uri() and hit["kind"] == "function"
    # The ignored file was written first, so the watcher has seen it too, and left it out.
    assert await symbols(client, "vendoredOnly") == []

    created.write_text("function renamedByWatcher() {}\n", encoding="utf-8")
    while not await symbols(client, "renamedByWatcher"):
        pass
    assert await symbols(client, "seenByWatcher") == []

    created.unlink()
    while await symbols(client, "renamedByWatcher"):
        pass
    status = await request(client, "nexus/status", {})
    assert status["folders"][0]["state"] == "ready"
