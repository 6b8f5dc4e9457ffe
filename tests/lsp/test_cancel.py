"""`$/cancelRequest` stops the work, not just the wait: a jedi references search that would run for tens
of seconds is interrupted in the worker process, which then answers the next request."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled
from pytest_lsp import ClientServerConfig, LanguageClient

from .conftest import SERVER, open_doc, request, start

pytestmark = pytest.mark.asyncio(loop_scope="module")

# jedi parses up to 30 files that mention the name when it searches a project for references; these are
# large enough that the search takes far longer than the test (tens of seconds here) unless stopped.
FILES, FUNCTIONS = 32, 1000


@pytest.fixture(scope="module")
def slow_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cancel") / "slow"
    root.mkdir()
    (root / "target.py").write_text("def needle(value):\n    return value\n", encoding="utf-8")
    body = "".join(f"def helper_{i}(x):\n    y = x + {i}\n    return needle(y) if y else helper_{i}(y - 1)\n\n"
                   for i in range(FUNCTIONS))
    for n in range(FILES):
        (root / f"mod_{n:02d}.py").write_text("from target import needle\n\n" + body, encoding="utf-8")
    return root


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=SERVER))
async def slow_client(lsp_client: LanguageClient, slow_project: Path):  # type: ignore[no-untyped-def]
    # The references request waits for jedi as long as it takes, so only the cancel can end it early.
    await start(lsp_client, slow_project, options={"budgets": {"references": 600_000, "hover": 60_000}})
    yield
    await lsp_client.shutdown_session()


async def python_status(client: LanguageClient) -> dict:  # type: ignore[type-arg]
    return (await request(client, "nexus/status", {}))["python"]  # type: ignore[no-any-return]


async def test_cancel_interrupts_the_running_jedi_job(slow_client: LanguageClient, slow_project: Path) -> None:
    client = slow_client
    target = open_doc(client, slow_project, "target.py", "python")
    params = types.ReferenceParams(text_document=types.TextDocumentIdentifier(target),
                                   position=types.Position(0, 5),
                                   context=types.ReferenceContext(include_declaration=True))
    pending = asyncio.ensure_future(client.protocol.send_request_async(
        types.TEXT_DOCUMENT_REFERENCES, params, msg_id="references-to-cancel"))
    while (await python_status(client))["running"] != "references":
        await asyncio.sleep(0.05)  # bounded by pytest-timeout; the search runs far longer than this loop
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="references-to-cancel"))
    with pytest.raises(JsonRpcRequestCancelled):
        await pending
    status = await python_status(client)
    while status["running"] is not None:
        status = await python_status(client)
    assert status["recent"][-1] == "references:interrupted (request cancelled)"
    assert status["interrupted"] == 1 and status["restarts"] == 0
    # The same worker process answers the next request, from jedi.
    hover = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(target), types.Position(0, 5)))
    assert hover is not None and "needle(value)" in hover.contents.value
    after = await python_status(client)
    assert after["pid"] == status["pid"] and after["recent"][-1] == "help:ok"


async def test_cancel_before_start_drops_the_job(slow_client: LanguageClient, slow_project: Path) -> None:
    client = slow_client
    target = open_doc(client, slow_project, "target.py", "python")
    before = await python_status(client)
    ident = types.TextDocumentIdentifier(target)
    params = types.ReferenceParams(text_document=ident, position=types.Position(0, 5),
                                   context=types.ReferenceContext(include_declaration=True))
    running = asyncio.ensure_future(client.protocol.send_request_async(
        types.TEXT_DOCUMENT_REFERENCES, params, msg_id="runs-first"))
    while (await python_status(client))["running"] != "references":
        await asyncio.sleep(0.05)
    # Queued behind the running search: cancelled before it starts, it never reaches jedi.
    queued = asyncio.ensure_future(client.protocol.send_request_async(
        types.TEXT_DOCUMENT_HOVER, types.HoverParams(ident, types.Position(1, 12)), msg_id="queued"))
    await request(client, "nexus/status", {})  # the hover has been received and queued
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="queued"))
    with pytest.raises(JsonRpcRequestCancelled):
        await queued
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="runs-first"))
    with pytest.raises(JsonRpcRequestCancelled):
        await running
    status = await python_status(client)
    while status["running"] is not None:
        status = await python_status(client)
    assert status["jobs"] == before["jobs"] + 2
    assert status["dropped"] == before["dropped"] + 1  # the hover
    assert status["interrupted"] == before["interrupted"] + 1  # the references
    assert status["recent"][-1] == "references:interrupted (request cancelled)"
