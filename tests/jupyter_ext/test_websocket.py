"""``{base_url}nexus/api/ws``: the gateway's message protocol over jupyter-server's tornado, with Jupyter's
own authentication and authorisation, streaming execution output and AI deltas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.auth import Authorizer
from tornado.httpclient import HTTPClientError
from tornado.websocket import WebSocketClientConnection

from .conftest import Fetch, api


class Socket:
    """A tornado WebSocket client speaking the protocol, with numbered ids."""

    def __init__(self, ws: WebSocketClientConnection) -> None:
        self.ws = ws
        self.next = 0

    async def send(self, type_: str, payload: dict[str, Any] | None = None) -> str:
        self.next += 1
        rid = f"r{self.next}"
        await self.ws.write_message(json.dumps({"type": type_, "id": rid, "payload": payload or {}}))
        return rid

    async def recv(self) -> dict[str, Any]:
        raw = await self.ws.read_message()
        assert raw is not None, "the server closed the socket"
        reply = json.loads(raw)
        assert isinstance(reply, dict)
        return reply

    async def request(self, type_: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        rid = await self.send(type_, payload)
        reply = await self.recv()
        assert reply["id"] == rid, reply
        return reply

    async def until_final(self, rid: str, streaming: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Replies of ``rid`` of type ``streaming``, then the first other one."""
        streamed = []
        while True:
            reply = await self.recv()
            assert reply["id"] == rid, reply
            if reply["type"] != streaming:
                return streamed, reply
            streamed.append(reply["data"])


async def connect(jp_ws_fetch: Fetch, **kwargs: Any) -> Socket:
    return Socket(await jp_ws_fetch("nexus", "api", "ws", **kwargs))


async def test_requests_replies_and_errors(jp_ws_fetch: Fetch, workspace: Path) -> None:
    sock = await connect(jp_ws_fetch)
    assert await sock.request("ping") == {"type": "pong", "id": "r1", "data": {}}
    read = await sock.request("files:read", {"path": "src/app.py"})
    assert read["type"] == "files:read" and read["data"]["content"].startswith("def greet")
    outside = await sock.request("files:read", {"path": "../../etc/passwd"})
    assert outside["type"] == "error" and outside["data"]["code"] == "invalid_path"
    await sock.ws.write_message("not json")
    assert (await sock.recv())["data"]["code"] == "bad_request"
    unknown = await sock.request("files:write", {"path": "x"})
    assert unknown["data"]["code"] == "unknown_type" and "files:read" in unknown["data"]["message"]
    refused = await sock.request("context:stream", {"contextId": "ctx-00000000-0000-0000-0000-000000000000"})
    assert refused["data"]["code"] == "not_found"
    nothing = await sock.request("ai:chat", {"prompt": "hi"})
    assert nothing["data"]["code"] == "unavailable" and "ANTHROPIC_API_KEY" in nothing["data"]["message"]
    sock.ws.close()


async def test_unauthenticated_sockets_are_refused(jp_ws_fetch: Fetch) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "token not-the-token"}):
        with pytest.raises(HTTPClientError) as refused:
            await connect(jp_ws_fetch, headers=headers)
        assert refused.value.code == 403


async def test_execution_output_streams_then_the_result(jp_ws_fetch: Fetch, jp_fetch: Fetch, workspace: Path) -> None:
    sock = await connect(jp_ws_fetch)
    code = "for i in range(3):\n    print('line', i, flush=True)\n{'answer': 42}"
    rid = await sock.send("ide:execute", {"code": code, "language": "python", "timeout": 30000})
    outputs, result = await sock.until_final(rid, "ide:output")
    assert result["type"] == "ide:result" and result["data"]["exitCode"] == 0
    assert "".join(o["text"] for o in outputs if o["stream"] == "stdout") == "line 0\nline 1\nline 2\n"
    assert outputs[-1]["output"]["data"]["text/plain"] == "{'answer': 42}"
    assert result["data"]["output"] == "line 0\nline 1\nline 2\n{'answer': 42}\n"

    # cancel interrupts and stops the one-shot kernel
    rid = await sock.send("ide:execute", {"code": "import time\nprint('started', flush=True)\ntime.sleep(60)"})
    first = await sock.recv()
    assert (first["id"], first["type"], first["data"]["text"]) == (rid, "ide:output", "started\n")
    cancel = await sock.send("cancel", {"id": rid})
    replies = {(r["id"], r["type"]): r for r in [await sock.recv(), await sock.recv()]}
    assert replies[(rid, "error")]["data"]["code"] == "cancelled"
    assert replies[(cancel, "cancel")]["data"] == {"id": rid, "cancelled": True}
    assert json.loads((await jp_fetch("api", "kernels")).body) == []
    sock.ws.close()


class ReadOnly(Authorizer):
    """Lets everyone read the Nexus API and nothing else."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return resource != "nexus" or action == "read"


class Nobody(Authorizer):
    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return resource != "nexus"


@pytest.mark.parametrize("authorizer_class", [ReadOnly, Nobody])
async def test_jupyters_authorizer_decides_the_role(jp_ws_fetch: Fetch, jp_fetch: Fetch, authorizer_class: type,
                                                    workspace: Path) -> None:
    if authorizer_class is Nobody:
        with pytest.raises(HTTPClientError) as refused:
            await connect(jp_ws_fetch)
        assert refused.value.code == 403
        status, reply = await api(jp_fetch, "status")
        assert (status, reply["code"]) == (403, "forbidden")
        return
    sock = await connect(jp_ws_fetch)
    assert (await sock.request("ping"))["type"] == "pong"
    refused = await sock.request("ide:execute", {"code": "print(1)"})
    assert refused["data"]["code"] == "forbidden" and "developer role" in refused["data"]["message"]
    status, reply = await api(jp_fetch, "execute", method="POST", body={"code": "print(1)"})
    assert (status, reply["code"]) == (403, "forbidden") and "execute on resource: nexus" in reply["message"]
    assert (await api(jp_fetch, "files", params={"path": "src/app.py"}))[0] == 200
    sock.ws.close()
