"""Contexts and the code graph through the extension: ``POST context/create`` (the seed's body and
``X-Context-Size``), ``GET context/{id}``, ``context:*`` over the WebSocket, ``GET graph/{symbol}``."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import Fetch, api
from .test_websocket import connect

TEXT = "".join(f"def handler_{i}(event):\n    return event['id'] + {i}\n\n" for i in range(300))


async def test_create_read_and_stream_a_context(jp_fetch: Fetch, jp_ws_fetch: Fetch, workspace: Path) -> None:
    status, created = await api(jp_fetch, "context", "create", method="POST",
                                body={"content": TEXT, "metadata": {"type": "document", "source": "user-upload"}})
    assert status == 200, created
    cid = created["contextId"]
    assert cid.startswith("ctx-") and created["compressed"] is True and created["tokenCount"] > 1000
    assert created["metadata"] == {"type": "document", "source": "user-upload"}

    status, info = await api(jp_fetch, "context", cid)
    assert status == 200 and info["contextId"] == cid and info["bytes"] == len(TEXT)
    status, paged = await api(jp_fetch, "context", cid, params={"page": "0", "pageSize": "5", "text": "1"})
    assert paged["text"] == TEXT and paged["page"]["page"] == 0 and paged["page"]["pieces"][0]["text"] == TEXT

    sock = await connect(jp_ws_fetch)
    rid = await sock.send("context:stream", {"contextId": cid, "chunkSize": 2048})
    chunks, end = await sock.until_final(rid, "context:chunk")
    assert "".join(c["text"] for c in chunks) == TEXT and end["type"] == "context:end"
    assert end["data"]["chunks"] == len(chunks) > 5
    over_ws = await sock.request("context:create", {"content": "hello", "metadata": {"source": "ws"}})
    assert over_ws["type"] == "context:create" and over_ws["data"]["metadata"]["source"] == "ws"
    sock.ws.close()

    status, plain = await api(jp_fetch, "context", "create", method="POST", body=TEXT.encode(),
                              headers={"Content-Type": "text/plain; charset=utf-8"},
                              params={"source": "editor"})
    assert status == 200 and plain["metadata"] == {"type": "document", "source": "editor"}


async def test_context_limits_and_errors(jp_fetch: Fetch, workspace: Path) -> None:
    status, small = await api(jp_fetch, "context", "create", method="POST", body={"content": TEXT},
                              headers={"X-Context-Size": "500"})
    assert (status, small["code"]) == (400, "bad_request") and "500" in small["message"]
    for header in ("0", "lots", "2000000"):
        status, bad = await api(jp_fetch, "context", "create", method="POST", body={"content": "x"},
                                headers={"X-Context-Size": header})
        assert (status, bad["code"]) == (400, "bad_request") and "X-Context-Size" in bad["message"], header
    status, ok = await api(jp_fetch, "context", "create", method="POST", body={"content": "short"},
                           headers={"X-Context-Size": "500"})
    assert status == 200 and ok["tokenCount"] <= 500
    for body in ({}, {"content": 5}, {"content": ""}, {"content": "x", "metadata": "doc"}, "[]"):
        status, bad = await api(jp_fetch, "context", "create", method="POST", body=body)
        assert (status, bad["code"]) == (400, "bad_request"), (body, bad)
    status, bad = await api(jp_fetch, "context", "create", method="POST", body=b"\xff\xfe",
                            headers={"Content-Type": "text/plain"})
    assert (status, bad["code"]) == (400, "bad_request") and "UTF-8" in bad["message"]
    for cid in ("ctx-00000000-0000-0000-0000-000000000000", "not-an-id"):
        status, missing = await api(jp_fetch, "context", cid)
        assert (status, missing["code"]) == (404, "not_found"), missing


async def test_graph_and_built_contexts_from_the_index(jp_fetch: Fetch, workspace: Path) -> None:
    (workspace / "src" / "main.py").write_text(
        "from app import greet\n\n\ndef main():\n    print(greet('world'))\n")
    status, unindexed = await api(jp_fetch, "graph", "greet")
    assert (status, unindexed["code"]) == (503, "unavailable") and "index" in unindexed["message"]
    assert (await api(jp_fetch, "index", method="POST"))[0] == 200

    status, graph = await api(jp_fetch, "graph", "greet")
    assert status == 200, graph
    assert [(d["path"], d["line"], d["kind"]) for d in graph["definitions"]] == [("src/app.py", 1, "function")]
    assert [(c["path"], c["caller"]) for c in graph["callers"]] == [("src/main.py", "main")]
    status, callees = await api(jp_fetch, "graph", "main", params={"mode": "callees"})
    assert "greet" in [c["callee"] for c in callees["callees"]] and "callers" not in callees
    status, missing = await api(jp_fetch, "graph", "no_such_symbol")
    assert (status, missing["code"]) == (404, "not_found")
    status, bad = await api(jp_fetch, "graph", "greet", params={"mode": "sideways"})
    assert (status, bad["code"]) == (400, "bad_request")

    status, built = await api(jp_fetch, "context", "create", method="POST",
                              body={"request": {"query": "greet", "path": "src/main.py", "line": 4, "budget": 1500}})
    assert status == 200 and 0 < built["tokenCount"] <= 1500, built
    status, text = await api(jp_fetch, "context", built["contextId"], params={"text": "1"})
    assert 'path="src/app.py"' in text["text"] and json.dumps(built["request"]).count("greet") == 1
    status, over = await api(jp_fetch, "context", "create", method="POST",
                             body={"request": {"query": "greet", "budget": 2_000_000}})
    assert (status, over["code"]) == (400, "bad_request") and "budget" in over["message"]
