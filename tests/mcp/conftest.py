"""The real `nexus mcp` as a subprocess, driven by the official `mcp` client over stdio and HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from nexus.engine import Workspace
from tests.services.conftest import make_workspace

TOKEN = "test-token-" + "x" * 24


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws_root = make_workspace(tmp_path / "ws")
    with Workspace.open(ws_root) as ws:
        ws.index()
    return ws_root


def mcp_command(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "nexus.cli", "mcp", "--root", str(root), *args]


@asynccontextmanager
async def stdio_client(root: Path, *args: str) -> AsyncIterator[Client]:
    command = mcp_command(root, *args)
    params = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    async with Client(params, read_timeout_seconds=60) as client:
        yield client


class HttpServer:
    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc = proc
        self.url = url

    @asynccontextmanager
    async def client(self, token: str = TOKEN) -> AsyncIterator[Client]:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            async with Client(streamable_http_client(self.url, http_client=http), read_timeout_seconds=60) as client:
                yield client


@pytest.fixture
def http_server(root: Path, request: pytest.FixtureRequest) -> Iterator[HttpServer]:
    allow = getattr(request, "param", "read")
    proc = subprocess.Popen(mcp_command(root, "--http", "--port", "0", "--allow", allow), stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "NEXUS_MCP_TOKEN": TOKEN})
    assert proc.stderr is not None
    line = proc.stderr.readline()
    try:
        assert "serving http://127.0.0.1:" in line, line + proc.stderr.read()
        yield HttpServer(proc, line.split("serving ", 1)[1].strip())
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stderr.close()
