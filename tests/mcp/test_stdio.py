"""`nexus mcp` over stdio: the tools are the registry's operations, their results the operations' results,
and bad calls get clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mcp.shared.exceptions import MCPError

from nexus.engine.config import Settings
from nexus.services import Backends, Call, Permission, Registry
from nexus.services.tools import Toolbox, tool_name

from .conftest import stdio_client

CASES: list[tuple[str, dict[str, Any]]] = [
    ("search", {"query": "retry", "mode": "text"}),
    ("search", {"query": "bkoff", "mode": "symbols"}),
    ("graph", {"symbol": "retry", "mode": "callers"}),
    ("files.read", {"path": "net/retry_policy.py"}),
    ("repo.map", {"budget": 500}),
    ("status", {}),
]


async def direct(root: Path) -> list[Any]:
    backends = Backends.open(root, Settings({}), providers=False)
    try:
        return [await Registry.default().result(name, payload, Call(backends)) for name, payload in CASES]
    finally:
        await backends.aclose()


async def test_tools_are_the_read_operations_with_their_schemas(root: Path) -> None:
    registry = Registry.default()
    described = registry.schema()
    async with stdio_client(root) as client:
        listed = (await client.list_tools()).tools
    expected = Toolbox(registry, Permission.READ)
    assert [t.name for t in listed] == expected.names()
    assert {"search", "files_read", "graph", "repo_map"} <= {t.name for t in listed}
    assert "execute" not in {t.name for t in listed} and "ai_chat" not in {t.name for t in listed}
    for tool in listed:
        op = tool.title or ""
        assert tool.description == described[op]["summary"]
        params = dict(described[op]["params"])
        params.pop("title", None)
        assert tool.input_schema == {**params, "properties": params.get("properties", {})}
        assert tool.annotations is not None and tool.annotations.read_only_hint is True


async def test_tool_results_equal_the_operations_results(root: Path) -> None:
    async with stdio_client(root) as client:
        got = []
        for name, payload in CASES:
            result = await client.call_tool(tool_name(name), payload)
            assert not result.is_error, result.content
            got.append(result.structured_content)
            assert json.loads(result.content[0].text) == result.structured_content  # type: ignore[union-attr]
    assert got == await direct(root)
    assert got[0]["hits"] and got[3]["content"].startswith("def backoff")


async def test_bad_arguments_name_the_field(root: Path) -> None:
    async with stdio_client(root) as client:
        wrong_type = await client.call_tool("search", {"query": 5})
        missing = await client.call_tool("files_read", {})
        out_of_range = await client.call_tool("search", {"query": "x", "limit": 0})
    assert wrong_type.is_error and "payload.query must be a string" in wrong_type.content[0].text  # type: ignore[union-attr]
    assert missing.is_error and "payload.path is required" in missing.content[0].text  # type: ignore[union-attr]
    assert out_of_range.is_error and "payload.limit must be between 1 and 1000" in out_of_range.content[0].text  # type: ignore[union-attr]
    assert wrong_type.structured_content is not None and wrong_type.structured_content["code"] == "bad_request"


async def test_unknown_tools_and_tools_not_allowed(root: Path) -> None:
    async with stdio_client(root) as client:
        with pytest.raises(MCPError) as unknown:
            await client.call_tool("rm_rf", {})
        forbidden = await client.call_tool("execute", {"code": "open('/tmp/pwned', 'w')"})
        still_fine = await client.call_tool("status", {})
    assert unknown.value.code == -32602 and "unknown tool 'rm_rf'" in unknown.value.message
    assert "search" in unknown.value.message  # the message lists what there is
    assert forbidden.is_error and "needs the execute permission" in forbidden.content[0].text  # type: ignore[union-attr]
    assert not still_fine.is_error


async def test_paths_outside_the_workspace_are_refused(root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    (root / "link.txt").symlink_to(secret)
    async with stdio_client(root) as client:
        dotdot = await client.call_tool("files_read", {"path": "../secret.txt"})
        absolute = await client.call_tool("files_read", {"path": str(secret)})
        linked = await client.call_tool("files_read", {"path": "link.txt"})
        with pytest.raises(MCPError) as resource:
            await client.read_resource(secret.as_uri())
        with pytest.raises(MCPError) as scheme:
            await client.read_resource("https://example.com/x")
    for refused in (dotdot, absolute, linked):
        assert refused.is_error and "invalid_path" in refused.content[0].text, refused  # type: ignore[union-attr]
        assert "do not read" not in refused.content[0].text  # type: ignore[union-attr]
    assert "invalid_path" in resource.value.message and "do not read" not in resource.value.message
    assert "unknown resource" in scheme.value.message


async def test_files_and_contexts_are_resources(root: Path) -> None:
    from nexus.engine import Workspace
    from nexus.engine.context import store_for

    with Workspace.open(root) as ws:
        store = store_for(ws)
        try:
            info = store.create_from_content("notes about retries", None, "test", "document")
        finally:
            store.close()
    async with stdio_client(root) as client:
        listed = (await client.list_resources()).resources
        uris = [str(r.uri) for r in listed]
        file_uri = (root / "net/retry_policy.py").resolve().as_uri()
        assert file_uri in uris and f"nexus://context/{info.context_id}" in uris
        text = (await client.read_resource(file_uri)).contents[0]
        context = (await client.read_resource(f"nexus://context/{info.context_id}")).contents[0]
        with pytest.raises(MCPError) as missing:
            await client.read_resource("nexus://context/no-such-context")
        templates = (await client.list_resource_templates()).resource_templates
    assert text.text == (root / "net/retry_policy.py").read_text()  # type: ignore[union-attr]
    assert context.text == "notes about retries"  # type: ignore[union-attr]
    assert missing.value.code == -32002
    assert {t.name for t in templates} == {"context", "file"}


async def test_the_repo_map_is_a_prompt(root: Path) -> None:
    async with stdio_client(root) as client:
        prompts = (await client.list_prompts()).prompts
        got = await client.get_prompt("repo_map", {"focus": "app.py", "budget": "300"})
        with pytest.raises(MCPError):
            await client.get_prompt("repo_map", {"budget": "lots"})
    assert [p.name for p in prompts] == ["repo_map"]
    text = got.messages[0].content.text  # type: ignore[union-attr]
    assert "net/retry_policy.py" in text and "def retry(fn, attempts=3)" in text


async def test_execute_needs_the_flag_and_then_runs(root: Path) -> None:
    async with stdio_client(root, "--allow", "execute") as client:
        names = [t.name for t in (await client.list_tools()).tools]
        result = await client.call_tool("execute", {"code": "print(6 * 7)"})
    assert "execute" in names and "ai_chat" in names
    assert not result.is_error and result.structured_content is not None
    assert result.structured_content["exitCode"] == 0 and result.structured_content["output"] == "42\n"


async def test_an_unindexed_workspace_is_indexed_at_start(tmp_path: Path) -> None:
    from tests.services.conftest import make_workspace

    fresh = make_workspace(tmp_path / "fresh")
    async with stdio_client(fresh) as client:
        for _ in range(600):  # indexing runs in the background; until it is done the tool says why
            result = await client.call_tool("search", {"query": "retry"})
            if not result.is_error:
                break
            assert "has no index yet" in result.content[0].text  # type: ignore[union-attr]
            import asyncio

            await asyncio.sleep(0.05)
    assert not result.is_error and result.structured_content is not None and result.structured_content["hits"]
