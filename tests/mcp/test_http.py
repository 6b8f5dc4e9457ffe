"""`nexus mcp --http`: streamable HTTP on 127.0.0.1, a bearer token on every request, and a client that
goes away mid-call stops the call (its kernel is interrupted) without taking the server down."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx2
import pytest
from mcp.shared.exceptions import MCPError

from nexus.engine.config import Settings
from nexus.services import Backends, Call, Registry

from .conftest import TOKEN, HttpServer

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


async def test_a_call_over_http_equals_the_operation(http_server: HttpServer, root: Path) -> None:
    assert http_server.url.startswith("http://127.0.0.1:")
    async with http_server.client() as client:
        result = await client.call_tool("search", {"query": "retry", "mode": "files"})
    backends = Backends.open(root, Settings({}), providers=False)
    try:
        expected = await Registry.default().result("search", {"query": "retry", "mode": "files"}, Call(backends))
    finally:
        await backends.aclose()
    assert not result.is_error and result.structured_content == expected


async def test_every_request_needs_the_token(http_server: HttpServer) -> None:
    async with httpx2.AsyncClient(timeout=30) as http:
        none = await http.post(http_server.url, json=INIT, headers=HEADERS)
        wrong = await http.post(http_server.url, json=INIT, headers={**HEADERS, "Authorization": "Bearer " + "y" * 35})
        basic = await http.post(http_server.url, json=INIT, headers={**HEADERS, "Authorization": f"Basic {TOKEN}"})
        in_query = await http.post(f"{http_server.url}?token={TOKEN}", json=INIT, headers=HEADERS)
        twice = await http.post(http_server.url, json=INIT,
                                headers=[*HEADERS.items(), ("Authorization", "Bearer nope"),
                                         ("Authorization", f"Bearer {TOKEN}")])
        right = await http.post(http_server.url, json=INIT, headers={**HEADERS, "Authorization": f"Bearer {TOKEN}"})
    for refused in (none, wrong, basic, in_query, twice):
        assert refused.status_code == 401, refused.text
        assert refused.headers["www-authenticate"] == "Bearer"
    assert right.status_code == 200, right.text
    with pytest.raises(Exception):  # noqa: B017 (the SDK reports a 401 as a transport error)
        async with http_server.client(token="z" * 32) as client:
            await client.list_tools()


@pytest.mark.parametrize("http_server", ["execute"], indirect=True)
@pytest.mark.timeout(180)
async def test_a_client_that_goes_away_mid_call_leaves_the_server_serving(http_server: HttpServer) -> None:
    started = asyncio.Event()

    async def progress(value: float, total: float | None, message: str | None) -> None:
        if message and "started" in message:
            started.set()

    code = "print('started', flush=True)\nimport time\ntime.sleep(3600)"
    async with http_server.client() as client:
        call = asyncio.create_task(client.call_tool("execute", {"code": code, "sessionId": "s"},
                                                    progress_callback=progress))
        await asyncio.wait_for(started.wait(), 90)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
    async with http_server.client() as client:
        again = await client.call_tool("execute", {"code": "print(41 + 1)"})
        with pytest.raises(MCPError):
            await client.call_tool("no_such_tool", {})
    assert not again.is_error and again.structured_content is not None
    assert again.structured_content["output"] == "42\n" and again.structured_content["exitCode"] == 0
    assert http_server.proc.poll() is None
