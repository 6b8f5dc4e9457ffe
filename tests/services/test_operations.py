"""The operations called directly, as every face calls them: validation, roles, results, schema."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from nexus.engine.config import load_settings
from nexus.services import Backends, Call, ErrorCode, Identity, OperationError, Registry, Role


async def test_search_modes_share_one_ranking(registry: Registry, call: Call) -> None:
    text = await registry.result("search", {"query": "retry"}, call)
    assert text["hits"][0]["path"] == "net/retry_policy.py"
    assert {"path", "line", "endLine", "symbol", "language", "score", "preview"} <= text["hits"][0].keys()
    symbols = await registry.result("search", {"query": "bkoff", "mode": "symbols"}, call)
    assert symbols["hits"][0]["name"] == "backoff" and symbols["hits"][0]["line"] == 1
    # a natural-language request and a fuzzy file name both find the file
    for query in ("seconds to wait before the next retry", "retry_pol"):
        files = await registry.result("search", {"query": query, "mode": "files"}, call)
        assert files["hits"][0]["path"] == "net/retry_policy.py", (query, files)
    by_name = await registry.result("search", {"query": "retry_pol", "mode": "files"}, call)
    assert "path" in by_name["hits"][0]["signals"]
    only_ts = await registry.result("search", {"query": "retry", "mode": "files", "languages": ["ts"]}, call)
    assert [h["path"] for h in only_ts["hits"]] == ["web/client.ts"]


@pytest.mark.parametrize(("payload", "needle"), [
    ({"query": "x", "limit": "5"}, "payload.limit"),
    ({"query": "x", "limit": 0}, "payload.limit"),
    ({"query": "x", "limit": True}, "payload.limit"),
    ({"query": "x", "mode": "fuzzy"}, "payload.mode"),
    ({"query": "x", "languages": ["cobol"]}, "unknown language 'cobol'"),
    ({}, "payload.query"),
    ([1, 2], "payload must be a JSON object"),
])
async def test_bad_parameters_name_the_field(registry: Registry, call: Call, payload: object, needle: str) -> None:
    with pytest.raises(OperationError) as err:
        await registry.result("search", payload, call)
    assert err.value.code is ErrorCode.BAD_REQUEST
    assert needle in err.value.message and err.value.message.startswith("search:query: ")


async def test_unknown_keys_are_ignored(registry: Registry, call: Call) -> None:
    found = await registry.result("search", {"query": "retry", "future": {"x": 1}}, call)
    assert found["hits"]


async def test_roles_are_checked_once_for_every_face(registry: Registry, call: Call) -> None:
    viewer = dataclasses.replace(call, identity=Identity("ann", Role.VIEWER))
    assert (await registry.result("status", {}, viewer))["indexed"] is True
    with pytest.raises(OperationError) as err:
        await registry.result("index", {}, viewer)
    assert err.value.code is ErrorCode.FORBIDDEN and "developer" in err.value.message


async def test_graph_and_imports(registry: Registry, call: Call) -> None:
    found = await registry.result("graph", {"symbol": "backoff"}, call)
    assert found["definitions"][0]["qualifiedName"] == "backoff"
    assert [(c["caller"], c["line"]) for c in found["callers"]] == [("retry", 11)]
    callers_only = await registry.result("graph", {"symbol": "retry", "mode": "callers"}, call)
    assert "callees" not in callers_only and callers_only["callers"][0]["path"] == "app.py"
    imports = await registry.result("graph", {"symbol": "app.py", "mode": "imports"}, call)
    assert imports["files"][0]["imports"][0]["target"] == "net/retry_policy.py"
    with pytest.raises(OperationError) as err:
        await registry.result("graph", {"symbol": "no_such_thing"}, call)
    assert err.value.code is ErrorCode.NOT_FOUND


async def test_files_read_refuses_outside_paths(registry: Registry, call: Call, tmp_path: Path) -> None:
    read = await registry.result("files.read", {"path": "app.py"}, call)
    assert read == {"path": "app.py", "content": (call.backends.root / "app.py").read_text()}
    (tmp_path / "secret.txt").write_text("s3cret")
    for path in ("../secret.txt", str(tmp_path / "secret.txt")):
        with pytest.raises(OperationError) as err:
            await registry.result("files.read", {"path": path}, call)
        assert err.value.code is ErrorCode.INVALID_PATH
    with pytest.raises(OperationError) as err:
        await registry.result("files.read", {"path": "missing.py"}, call)
    assert err.value.code is ErrorCode.NOT_FOUND


async def test_unindexed_workspace_is_unavailable_then_index_makes_it_searchable(
        registry: Registry, tmp_path: Path) -> None:
    from tests.services.conftest import make_workspace

    root = make_workspace(tmp_path / "fresh")
    backends = Backends.open(root, load_settings(root), providers=False)
    try:
        call = Call(backends)
        with pytest.raises(OperationError) as err:
            await registry.result("search", {"query": "retry"}, call)
        assert err.value.code is ErrorCode.UNAVAILABLE and "nexus index" in err.value.message
        summary = await registry.result("index", {}, call)
        assert summary["files"] == 4
        assert (await registry.result("search", {"query": "retry"}, call))["hits"]
    finally:
        await backends.aclose()


def test_every_operation_has_a_schema_and_a_unique_message(registry: Registry) -> None:
    described = registry.schema()
    assert {"files.read", "search", "graph", "index", "status"} <= described.keys()
    messages = [info["message"] for info in described.values()]
    assert len(messages) == len(set(messages))
    for name, info in described.items():
        assert info["summary"], name
        assert info["params"]["type"] == "object", name
    search = described["search"]["params"]["properties"]
    assert search["mode"]["enum"] == ["text", "symbols", "files"] and search["limit"]["maximum"] == 1000
    # camelCase on the wire, in the schema as in the data
    graph_result = described["graph"]["result"]
    assert "qualifiedName" in graph_result["$defs"]["GraphDefinition"]["properties"]


def test_cli_prints_the_schema() -> None:
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "nexus.cli", "api", "schema"], capture_output=True, text=True,
                         check=True, timeout=60)
    described = json.loads(out.stdout)
    assert described["search"]["message"] == "search:query"
    listed = subprocess.run([sys.executable, "-m", "nexus.cli", "api", "schema", "--list"], capture_output=True,
                            text=True, check=True, timeout=60)
    assert "files.read" in listed.stdout
    bad = subprocess.run([sys.executable, "-m", "nexus.cli", "api", "schema", "nope"], capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode != 0 and "unknown operation 'nope'" in bad.stderr


def test_docs_api_md_is_generated_from_the_declarations(registry: Registry) -> None:
    from nexus.cli.api import markdown

    doc = Path(__file__).resolve().parents[2] / "docs" / "api.md"
    assert doc.read_text(encoding="utf-8") == markdown(registry.schema()), "run: nexus api docs > docs/api.md"
