"""The real `nexus lsp` subprocess, driven by pytest-lsp's client over stdio, on a copy of the fixture
project (one workspace per test module, indexed by the server itself)."""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

FIXTURES = Path(__file__).parent / "fixtures" / "project"
JEDI_FEATURES = ("completion", "hover", "signatureHelp", "definition", "references", "highlight", "rename")
SERVER = [sys.executable, "-m", "nexus.cli", "lsp"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lsp") / "project"
    shutil.copytree(FIXTURES, root)
    return root


def uri(root: Path, rel: str) -> str:
    return (root / rel).as_uri()


def capabilities(encodings: list[str] | None = None) -> types.ClientCapabilities:
    caps = client_capabilities("visual-studio-code")
    if encodings is not None:
        caps.general = types.GeneralClientCapabilities(position_encodings=encodings)
    return caps


async def start(client: LanguageClient, root: Path, encodings: list[str] | None = None,
                options: dict | None = None) -> types.InitializeResult:  # type: ignore[type-arg]
    result = await client.initialize_session(types.InitializeParams(
        capabilities=capabilities(encodings), root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
        initialization_options=options or {}))
    await wait_indexed(client)
    return result


def plain(value: Any) -> Any:
    """pygls hands results of custom requests over as namedtuples: back to JSON-like values."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


async def request(client: LanguageClient, method: str, params: Any) -> Any:
    return plain(await client.protocol.send_request_async(method, params))


async def wait_indexed(client: LanguageClient) -> None:
    """Poll nexus/status until every folder's index is ready (bounded by pytest-timeout)."""
    while True:
        status = await request(client, "nexus/status", {})
        states = [f["state"] for f in status["folders"]]
        if states and all(s in ("ready", "error") for s in states):
            return
        await asyncio.sleep(0.05)


def open_doc(client: LanguageClient, root: Path, rel: str, language: str, text: str | None = None) -> str:
    target = uri(root, rel)
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=target, language_id=language, version=1,
        text=text if text is not None else (root / rel).read_text(encoding="utf-8"))))
    return target


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, project: Path) -> AsyncIterator[None]:
    # Generous jedi budgets: these tests check jedi's answers, not the fallback (tested on its own).
    await start(lsp_client, project, options={"budgets": {k: 60_000 for k in JEDI_FEATURES}})
    yield
    await lsp_client.shutdown_session()
