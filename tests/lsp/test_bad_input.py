"""Malformed and hostile input over raw stdio: the server answers with errors or empty results, never
crashes or hangs, and still answers a valid request afterwards."""

from __future__ import annotations

import asyncio
import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import SERVER


class RawClient:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.responses: dict[Any, dict] = {}  # type: ignore[type-arg]

    def send_bytes(self, body: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def send(self, message: dict) -> None:  # type: ignore[type-arg]
        self.send_bytes(json.dumps(message).encode())

    async def response(self, msg_id: Any) -> dict:  # type: ignore[type-arg]
        assert self.process.stdout is not None
        while msg_id not in self.responses:
            header = await self.process.stdout.readline()
            assert header, "server closed its stdout"
            length = int(header.split(b":")[1])
            while (await self.process.stdout.readline()).strip():
                pass
            message = json.loads(await self.process.stdout.readexactly(length))
            if isinstance(message.get("id"), (int, str)) and "method" not in message:
                self.responses[message["id"]] = message
        return self.responses.pop(msg_id)


@pytest.mark.asyncio(loop_scope="function")
async def test_fuzzed_stream_then_valid_requests(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.py").write_text("def f(x):\n    return x\n", encoding="utf-8")
    process = await asyncio.create_subprocess_exec(*SERVER, stdin=asyncio.subprocess.PIPE,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    client = RawClient(process)
    client.send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                 "params": {"processId": None, "rootUri": root.as_uri(), "capabilities": {}}})
    assert "capabilities" in (await client.response(1))["result"]
    client.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    uri = (root / "a.py").as_uri()
    rng = random.Random(1234)
    methods = ["textDocument/hover", "textDocument/definition", "textDocument/completion",
               "textDocument/references", "textDocument/documentSymbol", "textDocument/foldingRange",
               "nexus/search", "textDocument/rename", "workspace/symbol", "no/such/method"]
    garbage = [b"{", b"[]", b"null", b"42", b'{"jsonrpc": "1.0", "id": 5, "method": "x"}', b"\xff\xfe\x00",
               b'{"jsonrpc": "2.0"}', b'{"jsonrpc": "2.0", "id": {"a": 1}, "method": "shutdown"}']
    expected_ids = []
    for i in range(200):
        choice = rng.random()
        if choice < 0.2:
            client.send_bytes(rng.choice(garbage))
        elif choice < 0.3:
            client.send_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))))
        else:
            msg_id = 1000 + i
            params: Any = rng.choice([
                None, {}, [], "text", {"textDocument": {"uri": uri}},
                {"textDocument": {"uri": uri}, "position": {"line": rng.choice([-1, 0, 1, 10**9]),
                                                            "character": rng.choice([-5, 0, 3, 10**9])}},
                {"textDocument": {"uri": (root / "missing.py").as_uri()}, "position": {"line": 0, "character": 0}},
                {"textDocument": {"uri": "untitled:Untitled-1"}, "position": {"line": 0, "character": 0}},
                {"query": rng.choice(["f", "", "open(", "foo AND", 7]), "mode": rng.choice(["text", "symbols", 3])},
                {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 4}, "newName": "1bad"},
            ])
            client.send({"jsonrpc": "2.0", "id": msg_id, "method": rng.choice(methods), "params": params})
            expected_ids.append(msg_id)
    # A huge document, then a change for a document that was never opened.
    client.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": (root / "huge.py").as_uri(), "languageId": "python", "version": 1, "text": "x = 1\n" * 50_000}}})
    client.send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
        "textDocument": {"uri": (root / "nope.py").as_uri(), "version": 2}, "contentChanges": [{"text": "y"}]}})
    for msg_id in expected_ids:  # every well-formed request gets an answer: a result or an error
        answer = await client.response(msg_id)
        assert "result" in answer or "error" in answer
    client.send({"jsonrpc": "2.0", "id": 9001, "method": "textDocument/documentSymbol",
                 "params": {"textDocument": {"uri": (root / "huge.py").as_uri()}}})
    assert len((await client.response(9001))["result"]) >= 1
    client.send({"jsonrpc": "2.0", "id": 9002, "method": "textDocument/definition",
                 "params": {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 12}}})
    result = (await client.response(9002))["result"]
    assert result == [{"uri": uri, "range": {"start": {"line": 0, "character": 6}, "end": {"line": 0, "character": 7}}}]
    client.send({"jsonrpc": "2.0", "id": 9003, "method": "shutdown", "params": None})
    assert (await client.response(9003))["result"] is None
    client.send({"jsonrpc": "2.0", "method": "exit", "params": None})
    assert await asyncio.wait_for(process.wait(), 30) == 0


@pytest.mark.asyncio(loop_scope="function")
async def test_unreadable_workspace_is_reported_not_fatal(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(*SERVER, stdin=asyncio.subprocess.PIPE,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    client = RawClient(process)
    missing = tmp_path / "does-not-exist"
    client.send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                 "params": {"processId": None, "rootUri": missing.as_uri(), "capabilities": {}}})
    assert "capabilities" in (await client.response(1))["result"]
    client.send({"jsonrpc": "2.0", "id": 2, "method": "nexus/status", "params": {}})
    folders = (await client.response(2))["result"]["folders"]
    assert folders[0]["state"] == "error" and "does not exist" in folders[0]["error"]
    client.send({"jsonrpc": "2.0", "id": 3, "method": "workspace/symbol", "params": {"query": "x"}})
    assert (await client.response(3))["result"] == []
    process.kill()
    await process.wait()


def test_cli_help_and_bad_tcp_address() -> None:
    import subprocess

    done = subprocess.run([sys.executable, "-m", "nexus.cli", "lsp", "--help"], capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.returncode == 0 and "--tcp" in done.stdout and "--log-file" in done.stdout
    done = subprocess.run([sys.executable, "-m", "nexus.cli", "lsp", "--tcp", "nonsense"], capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode == 2 and "HOST:PORT" in done.stderr
