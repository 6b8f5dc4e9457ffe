"""The REST API against a real jupyter-server with the extension enabled."""

from __future__ import annotations

from pathlib import Path

from .conftest import Fetch, api


async def test_status_reports_the_workspace_providers_and_kernels(jp_fetch: Fetch, workspace: Path) -> None:
    status, body = await api(jp_fetch, "status")
    assert status == 200, body
    assert body["root"] == str(workspace.resolve())
    assert body["index"]["indexed"] is False
    assert body["providers"]["available"] is False
    assert "python3" in body["kernels"]["kernelspecs"]
    assert "ide:execute" in body["websocket"]["types"]


async def test_files_reads_inside_the_workspace(jp_fetch: Fetch, workspace: Path) -> None:
    status, body = await api(jp_fetch, "files", params={"path": "src/app.py"})
    assert status == 200, body
    assert body == {"path": "src/app.py", "content": (workspace / "src" / "app.py").read_text()}
