"""Hostile input to the real `nexus lsp` over raw stdio: ``%00`` and lone surrogates in URIs and text,
floods of malformed messages, and a document far above the size limit. Every request gets a result or
a clear InvalidParams error (never -32603, an internal error), garbage is logged rather than popped up,
and a 20 MB buffer costs neither gigabytes nor a parse."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import SERVER
from .test_bad_input import RawClient

INTERNAL_ERROR = -32603
INVALID_PARAMS = -32602
SURROGATE = "\\ud800"  # as it travels in JSON: valid JSON, but no UTF-8 can carry it


class Client(RawClient):
    """The raw client, keeping the server's notifications."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        super().__init__(process)
        self.notifications: list[dict[str, Any]] = []

    async def response(self, msg_id: Any) -> dict:  # type: ignore[type-arg]
        assert self.process.stdout is not None
        while msg_id not in self.responses:
            header = await self.process.stdout.readline()
            assert header, "server closed its stdout"
            length = int(header.split(b":")[1])
            while (await self.process.stdout.readline()).strip():
                pass
            message = json.loads(await self.process.stdout.readexactly(length))
            if "method" in message and "id" not in message:
                self.notifications.append(message)
            elif isinstance(message.get("id"), (int, str)) and "method" not in message:
                self.responses[message["id"]] = message
        return self.responses.pop(msg_id)

    def raw(self, text: str) -> None:
        """Send JSON text as written (so ``\\ud800`` escapes reach the server as they are)."""
        self.send_bytes(text.encode())

    def count(self, method: str) -> int:
        return sum(1 for n in self.notifications if n["method"] == method)


async def started(root: Path) -> tuple[asyncio.subprocess.Process, Client]:
    process = await asyncio.create_subprocess_exec(*SERVER, stdin=asyncio.subprocess.PIPE,
                                                   stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.DEVNULL, limit=2**26)
    client = Client(process)
    client.send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                 "params": {"processId": None, "rootUri": root.as_uri(), "capabilities": {},
                            "workspaceFolders": [{"uri": root.as_uri(), "name": "ws"}]}})
    assert "capabilities" in (await client.response(1))["result"]
    client.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    return process, client


async def stopped(process: asyncio.subprocess.Process, client: Client) -> None:
    client.send({"jsonrpc": "2.0", "id": "bye", "method": "shutdown", "params": None})
    assert (await client.response("bye"))["result"] is None
    client.send({"jsonrpc": "2.0", "method": "exit", "params": None})
    assert await asyncio.wait_for(process.wait(), 30) == 0


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.py").write_text("def alpha(x):\n    return x\n", encoding="utf-8")
    return ws


@pytest.mark.asyncio(loop_scope="function")
async def test_nul_and_surrogates_in_uris_and_text_never_give_internal_errors(root: Path) -> None:
    process, client = await started(root)
    base = root.as_uri()
    text = f"def f{SURROGATE}(a):\\n    return a{SURROGATE}\\n\\nclass K:\\n    def m(self): return 1\\n"
    opened = [f"{base}/n%00.py", f"{base}/s{SURROGATE}.py", f"{base}/ok.py"]
    for uri in opened:
        client.raw('{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": '
                   f'{{"uri": "{uri}", "languageId": "python", "version": 1, "text": "{text}"}}}}}}')
        client.raw('{"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": '
                   f'{{"uri": "{uri}", "version": 2}}, "contentChanges": [{{"range": {{"start": {{"line": 0, '
                   f'"character": 2}}, "end": {{"line": 0, "character": 3}}}}, "text": "{SURROGATE}"}}]}}}}')
    never_opened = [f"{base}/missing%00.py", f"{base}/x{SURROGATE}.py"]
    methods = ["textDocument/hover", "textDocument/definition", "textDocument/references",
               "textDocument/documentHighlight", "textDocument/documentSymbol", "textDocument/foldingRange",
               "textDocument/completion", "textDocument/selectionRange", "textDocument/rename"]
    msg_id = 100
    answers: dict[tuple[str, str], dict[str, Any]] = {}
    for uri in opened + never_opened:
        for method in methods:
            msg_id += 1
            client.raw(f'{{"jsonrpc": "2.0", "id": {msg_id}, "method": "{method}", "params": {{"textDocument": '
                       f'{{"uri": "{uri}"}}, "position": {{"line": 0, "character": 4}}, "positions": '
                       f'[{{"line": 0, "character": 4}}], "newName": "g", "context": {{"includeDeclaration": '
                       'true}}}')
            answers[(uri, method)] = await client.response(msg_id)
    for query in (f"f{SURROGATE}", f"{SURROGATE}"):
        for method, params in (("workspace/symbol", f'{{"query": "{query}"}}'),
                               ("nexus/search", f'{{"query": "{query}", "mode": "text"}}'),
                               ("nexus/search", f'{{"query": "{query}", "mode": "symbols"}}')):
            msg_id += 1
            client.raw(f'{{"jsonrpc": "2.0", "id": {msg_id}, "method": "{method}", "params": {params}}}')
            answers[(query, f"{method} {params}")] = await client.response(msg_id)
    internal = {key: a["error"]["message"] for key, a in answers.items()
                if "error" in a and a["error"]["code"] == INTERNAL_ERROR}
    assert internal == {}
    # An open document with an impossible file name is served as an untitled buffer (the edit broke
    # the first line's `def`; the class is intact).
    for uri in opened:
        outline = answers[(uri, "textDocument/documentSymbol")]["result"]
        assert [s["name"] for s in outline] == ["K"], uri
    # One that was never opened cannot be read: a clear InvalidParams naming the problem.
    for uri in never_opened:
        for method in methods:
            assert answers[(uri, method)]["error"]["code"] == INVALID_PARAMS, (uri, method)
    nul = answers[(never_opened[0], "textDocument/hover")]["error"]["message"]
    assert "not a usable file URI" in nul and "NUL byte" in nul
    assert "no such file" in answers[(never_opened[1], "textDocument/hover")]["error"]["message"]  # U+FFFD now
    # the lone surrogate arrives as U+FFFD, which is no name character: the search is the search for "f"
    found = answers[(f"f{SURROGATE}", 'workspace/symbol {"query": "f\\ud800"}')]["result"]
    assert isinstance(found, list) and all(hit["name"].startswith("f") for hit in found), found
    await stopped(process, client)


@pytest.mark.asyncio(loop_scope="function")
async def test_a_flood_of_malformed_messages_is_logged_not_popped_up(root: Path) -> None:
    process, client = await started(root)
    garbage = [b"{", b"[]", b"null", b"42", b'{"jsonrpc": "2.0"}', b"\xff\xfe\x00", b'"text"',
               b'{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": 3}}']
    for i in range(400):
        client.send_bytes(garbage[i % len(garbage)])
    client.send({"jsonrpc": "2.0", "id": 2, "method": "workspace/symbol", "params": {"query": "alpha"}})
    assert "result" in await client.response(2)
    await stopped(process, client)  # reads every notification sent before the shutdown answer
    assert client.count("window/showMessage") <= 1
    logged = [n["params"]["message"] for n in client.notifications if n["method"] == "window/logMessage"]
    assert len(logged) >= 300  # each one is in the log, where the user can look
    assert any("could not handle" in m for m in logged)


@pytest.mark.asyncio(loop_scope="function")
async def test_a_20_mb_document_is_declined_with_a_log_line_not_gigabytes(root: Path) -> None:
    process, client = await started(root)
    block = ("class Widget{0}(Base):\n    def compute(self, other):\n        return other.value + {0}\n\n\n"
             "def helper_{0}(a, b=None):\n    return a + (b or 0)\n\n\n")
    text = "".join(block.format(i) for i in range(150_000))
    assert len(text) > 20_000_000
    huge = (root / "huge.py").as_uri()
    client.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": huge, "languageId": "python", "version": 1, "text": text}}})
    del text
    client.send({"jsonrpc": "2.0", "id": 2, "method": "textDocument/documentSymbol",
                 "params": {"textDocument": {"uri": huge}}})
    assert (await client.response(2))["result"] == []
    for msg_id, method in enumerate(["textDocument/foldingRange", "textDocument/hover", "textDocument/completion",
                                     "textDocument/definition"], start=3):
        client.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": {
            "textDocument": {"uri": huge}, "position": {"line": 1, "character": 10}}})
        assert "result" in await client.response(msg_id), method
    logged = [n["params"]["message"] for n in client.notifications if n["method"] == "window/logMessage"]
    assert any("huge.py is 2" in m and "above the 2.0 MB limit" in m for m in logged), logged
    # The buffer is not indexed: the file was never on disk, so nothing of it is searchable.
    client.send({"jsonrpc": "2.0", "id": 20, "method": "workspace/symbol", "params": {"query": "helper_149999"}})
    assert (await client.response(20))["result"] == []
    # A normal document in the same server still gets its outline.
    small = (root / "a.py").as_uri()
    client.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": small, "languageId": "python", "version": 1, "text": (root / "a.py").read_text()}}})
    client.send({"jsonrpc": "2.0", "id": 21, "method": "textDocument/documentSymbol",
                 "params": {"textDocument": {"uri": small}}})
    assert [s["name"] for s in (await client.response(21))["result"]] == ["alpha"]
    # Several copies of the text are unavoidable (the message, the string, its UTF-8); a parse, jedi
    # and the index are not: they took this to 2 GB.
    assert peak_rss_mb(process.pid) < 800
    await stopped(process, client)
