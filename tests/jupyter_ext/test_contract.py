"""One contract for every face: each operation, run through the registry directly, the gateway's socket,
the Jupyter extension's socket and REST routes, the language server, the MCP server and the CLI, on
copies of one workspace, gives the same result.

Each face gets its own copy (LMDB must not be opened twice in one process, and the gateway and the
extension run in this one); copies keep file times, so every ranking signal is the same.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.lsp.client import LanguageClient

from nexus.engine import Workspace
from nexus.engine.config import Settings
from nexus.gateway import GatewaySettings, UserStore
from nexus.services import Backends, Call, Registry, Role
from tests.gateway.wsclient import client as gateway_client
from tests.gateway.wsclient import create as create_gateway
from tests.services.conftest import make_workspace

from .conftest import Fetch, api
from .test_websocket import connect

CASES: list[tuple[str, dict[str, Any]]] = [
    ("search", {"query": "retry", "mode": "text"}),
    ("search", {"query": "bkoff", "mode": "symbols"}),
    ("search", {"query": "seconds to wait before the next retry", "mode": "files"}),
    ("search", {"query": "retry_pol", "mode": "files"}),
    ("graph", {"symbol": "backoff"}),
    ("graph", {"symbol": "retry", "mode": "callers"}),
    ("graph", {"symbol": "app.py", "mode": "imports"}),
    ("files.read", {"path": "net/retry_policy.py"}),
]


def copy_of(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, copy_function=shutil.copy2)
    with Workspace.open(target) as ws:
        ws.index()
    return target


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "source")


async def direct(root: Path) -> list[Any]:
    backends = Backends.open(root, Settings({}), providers=False)
    registry = Registry.default()
    try:
        return [await registry.result(name, payload, Call(backends)) for name, payload in CASES]
    finally:
        await backends.aclose()


async def through_gateway(root: Path, tmp_path: Path) -> list[Any]:
    users = UserStore(tmp_path / "users.json")
    users.add("dave", Role.DEVELOPER, "a-long-password")
    settings = GatewaySettings(host="127.0.0.1", port=0, users_file=tmp_path / "users.json",
                               secret="s" * 32, ping_interval=0, shutdown_grace=1.0)
    gw = create_gateway(settings, root)
    await gw.start()
    registry = Registry.default()
    try:
        async with gateway_client(gw, "dave") as c:
            out = []
            for name, payload in CASES:
                op = registry.require(name)
                reply = await c.request(op.message, payload)
                assert reply["type"] == op.result_message, reply
                out.append(reply["data"])
            return out
    finally:
        await gw.stop(grace=0)


async def through_jupyter_socket(jp_ws_fetch: Fetch) -> list[Any]:
    sock = await connect(jp_ws_fetch)
    registry = Registry.default()
    out = []
    for name, payload in CASES:
        reply = await sock.request(registry.require(name).message, payload)
        assert reply["type"] == registry.require(name).result_message, reply
        out.append(reply["data"])
    sock.ws.close()
    return out


async def through_jupyter_rest(jp_fetch: Fetch) -> list[Any]:
    """The seed's REST routes: search, graph and files have their own query-string shapes."""
    out: list[Any] = []
    for name, payload in CASES:
        if name == "search":
            status, body = await api(jp_fetch, "search", params={"q": payload["query"], "kind": payload["mode"]})
        elif name == "graph":
            params = {"mode": payload["mode"]} if "mode" in payload else {}
            status, body = await api(jp_fetch, "graph", payload["symbol"], params=params)
        else:
            status, body = await api(jp_fetch, "files", params={"path": payload["path"]})
        assert status == 200, body
        out.append(body)
    return out


async def through_lsp(root: Path) -> list[Any]:
    lsp = LanguageClient("contract", "1")
    await lsp.start_io(sys.executable, "-m", "nexus.cli", "lsp")
    try:
        await lsp.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)]))
        lsp.initialized(types.InitializedParams())
        while True:
            status = _plain(await lsp.protocol.send_request_async("nexus/status", {}))
            if status["folders"] and status["folders"][0]["state"] == "ready":
                break
            await asyncio.sleep(0.05)
        out = []
        for name, payload in CASES:
            if name == "search":  # nexus/search predates the operations: LSP locations, same order
                hits = _plain(await lsp.protocol.send_request_async("nexus/search", {**payload, "limit": 20}))
                out.append({"lsp": [(Path(h["uri"].removeprefix("file://")).relative_to(root).as_posix(),
                                     h["range"]["start"]["line"] + 1, h["score"]) for h in hits]})
            else:
                out.append(_plain(await lsp.protocol.send_request_async(f"nexus/{name}", payload)))
        return out
    finally:
        await lsp.shutdown_async(None)
        lsp.exit(None)
        await lsp.stop()


async def through_mcp(root: Path) -> list[Any]:
    """`nexus mcp` over stdio with the official client: each tool's structured result."""
    import os

    from mcp import Client, StdioServerParameters

    from nexus.services.tools import tool_name

    params = StdioServerParameters(command=sys.executable, args=["-m", "nexus.cli", "mcp", "--root", str(root)],
                                   env=dict(os.environ))
    out = []
    async with Client(params, read_timeout_seconds=60) as client:
        for name, payload in CASES:
            result = await client.call_tool(tool_name(name), payload)
            assert not result.is_error, result.content
            out.append(result.structured_content)
    return out


def through_cli(root: Path) -> list[Any]:
    out = []
    for name, payload in CASES:
        done = subprocess.run([sys.executable, "-m", "nexus.cli", "api", "call", name, json.dumps(payload),
                               "--root", str(root)], capture_output=True, text=True, timeout=120, check=True)
        out.append(json.loads(done.stdout))
    return out


def _plain(value: Any) -> Any:
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    return value


def as_lsp(result: dict[str, Any]) -> dict[str, Any]:
    """A search result as nexus/search reports it: (path, 1-based line, score) in order."""
    return {"lsp": [(h["path"], h["line"], h["score"]) for h in result["hits"]]}


@pytest.mark.timeout(240)
async def test_every_face_gives_the_same_results(source: Path, tmp_path: Path, jp_root_dir: Path,
                                                 jp_fetch: Fetch, jp_ws_fetch: Fetch) -> None:
    for item in source.iterdir():  # the extension's workspace is its root_dir
        (shutil.copytree if item.is_dir() else shutil.copy2)(item, jp_root_dir / item.name)
    with Workspace.open(jp_root_dir) as ws:
        ws.index()
    expected = await direct(copy_of(source, tmp_path / "direct"))
    assert expected[0]["hits"] and expected[2]["hits"][0]["path"] == "net/retry_policy.py"
    assert await through_gateway(copy_of(source, tmp_path / "gateway"), tmp_path) == expected
    assert await through_jupyter_socket(jp_ws_fetch) == expected
    assert await through_jupyter_rest(jp_fetch) == expected
    assert await asyncio.to_thread(through_cli, copy_of(source, tmp_path / "cli")) == expected
    assert await through_mcp(copy_of(source, tmp_path / "mcp")) == expected
    lsp = await through_lsp(copy_of(source, tmp_path / "lsp"))
    for (name, _), want, got in zip(CASES, expected, lsp, strict=True):
        assert got == (as_lsp(want) if name == "search" else want), name
