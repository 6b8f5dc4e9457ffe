"""The REST API against a real jupyter-server with the extension enabled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

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


async def test_unauthenticated_requests_are_refused(jp_fetch: Fetch, workspace: Path) -> None:
    for method, parts, params in [("GET", ("status",), {}), ("GET", ("files",), {"path": "src/app.py"}),
                                  ("GET", ("search",), {"q": "greet"}), ("POST", ("execute",), {}),
                                  ("POST", ("processor", "chain"), {}), ("POST", ("processor", "claude"), {}),
                                  ("GET", ("kernels", "abc", "variables"), {}), ("POST", ("index",), {})]:
        for headers in ({"Authorization": ""}, {"Authorization": "token wrong-token"}):
            body = {"code": "open('/tmp/pwned', 'w')"} if method == "POST" else None
            status, reply = await api(jp_fetch, *parts, method=method, params=params, headers=headers, body=body)
            assert status == 403, (parts, headers, reply)
            assert reply["status"] == 403 and reply["code"] == "forbidden"
    assert not Path("/tmp/pwned").exists()


async def test_files_refuses_paths_outside_the_workspace(jp_fetch: Fetch, workspace: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    (workspace / "link-out").symlink_to(secret)
    (workspace / "dir-out").symlink_to(tmp_path)
    for path in ("../secret.txt", "src/../../secret.txt", str(secret), "link-out", "dir-out/secret.txt", "/etc/passwd"):
        status, reply = await api(jp_fetch, "files", params={"path": path})
        assert (status, reply["code"]) == (403, "invalid_path"), (path, reply)
        assert "outside the workspace" in reply["message"]
    (workspace / "data.bin").write_bytes(b"\0\1\2")
    cases = [({"path": "missing.py"}, 404, "not_found"), ({"path": "data.bin"}, 403, "invalid_path"),
             ({"path": "src"}, 403, "invalid_path"), ({}, 400, "bad_request"), ({"path": ""}, 400, "bad_request"),
             ({"path": "src/app.py\x00.txt"}, 404, "not_found")]  # Tornado turns the NUL into a space
    for params, code, name in cases:
        status, reply = await api(jp_fetch, "files", params=params)
        assert (status, reply["code"]) == (code, name), (params, reply)
        assert reply["message"]
    status, reply = await api(jp_fetch, "files", params={"path": str(workspace / "src" / "app.py")})
    assert status == 200 and reply["path"] == "src/app.py"  # absolute, but inside


async def test_execute_runs_python_in_a_kernel_of_the_server(jp_fetch: Fetch, workspace: Path) -> None:
    status, body = await api(jp_fetch, "execute", method="POST",
                             body={"language": "python", "code": "import os\nprint(os.getcwd())\n6 * 7",
                                   "timeout": 30000})
    assert status == 200, body
    assert body["exitCode"] == 0 and body["output"] == f"{workspace.resolve()}\n42\n"
    assert [o["output_type"] for o in body["outputs"]] == ["stream", "execute_result"]
    assert isinstance(body["executionTime"], int)
    _, kernels = await api_kernels(jp_fetch)
    assert kernels == []  # the one-shot kernel was shut down

    status, failed = await api(jp_fetch, "execute", method="POST", body={"code": "raise KeyError('nope')"})
    assert status == 200 and failed["exitCode"] == 1 and failed["outputs"][-1]["ename"] == "KeyError"
    status, slow = await api(jp_fetch, "execute", method="POST",
                             body={"code": "import time\ntime.sleep(30)", "timeout": 1000})
    assert status == 200 and slow["exitCode"] == 124 and slow["reason"] == "timed out after 1 s"


async def api_kernels(jp_fetch: Fetch) -> tuple[int, list[dict[str, object]]]:
    import json

    response = await jp_fetch("api", "kernels")
    return response.code, json.loads(response.body)


async def test_execute_in_a_notebook_kernel_keeps_its_state(jp_fetch: Fetch, workspace: Path) -> None:
    import json

    kernel = json.loads((await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "python3"}))).body)
    status, first = await api(jp_fetch, "execute", method="POST", body={"code": "x = 41", "kernelId": kernel["id"]})
    assert status == 200 and first["exitCode"] == 0, first
    status, second = await api(jp_fetch, "execute", method="POST",
                               body={"code": "x + 1", "kernelId": kernel["id"], "language": "python"})
    assert second["output"] == "42\n"
    status, wrong = await api(jp_fetch, "execute", method="POST",
                              body={"code": "1", "kernelId": kernel["id"], "language": "javascript"})
    assert (status, wrong["code"]) == (400, "bad_request") and "runs python" in wrong["message"]
    status, missing = await api(jp_fetch, "execute", method="POST", body={"code": "1", "kernelId": "no-such-kernel"})
    assert (status, missing["code"]) == (404, "not_found") and "no-such-kernel" in missing["message"]
    _, kernels = await api_kernels(jp_fetch)
    assert [k["id"] for k in kernels] == [kernel["id"]]  # still running: it is the notebook's


async def test_bad_bodies_get_400_with_a_message(jp_fetch: Fetch, workspace: Path) -> None:
    cases = [
        ("execute", "", "the request body must be a JSON object"),
        ("execute", "{not json", "the request body is not JSON"),
        ("execute", "[1, 2]", "the request body must be a JSON object"),
        ("execute", {"code": 7}, "payload.code must be a string"),
        ("execute", {"code": "1", "timeout": -5}, "payload.timeout must be between"),
        ("execute", {"code": "1", "language": "cobol"}, "no Jupyter kernel for 'cobol'"),
        ("execute", {"code": "1", "sessionId": "s"}, "kernelId"),
        ("processor/chain", {"processors": "claude", "prompt": "x"}, "processors must be a list"),
        ("processor/claude", "{", "the request body is not JSON"),
    ]
    for path, body, message in cases:
        status, reply = await api(jp_fetch, *path.split("/"), method="POST", body=body)
        assert status in (400, 503), (path, body, reply)
        if status == 503:  # no provider configured: said before the body matters
            assert path.startswith("processor/") and "ANTHROPIC_API_KEY" in reply["message"]
            continue
        assert reply == {"status": 400, "code": "bad_request", "message": reply["message"]}
        assert message in reply["message"], (path, body, reply)
    status, reply = await api(jp_fetch, "search", params={"kind": "text"})
    assert (status, reply["code"]) == (400, "bad_request") and "'q'" in reply["message"]
    status, reply = await api(jp_fetch, "search", params={"q": "x", "kind": "regex"})
    assert (status, reply["code"]) == (400, "bad_request") and "mode" in reply["message"]


async def test_a_kept_client_sees_only_its_own_output(jp_fetch: Fetch, jp_serverapp: Any, workspace: Path) -> None:
    """Nexus keeps one client per notebook kernel between requests; what other clients of that kernel run
    in between (the notebook itself) must not leak into the next result."""
    import json

    from jupyter_client.asynchronous import AsyncKernelClient

    kernel = json.loads((await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "python3"}))).body)
    status, first = await api(jp_fetch, "execute", method="POST", body={"code": "print('mine 1')", "kernelId": kernel["id"]})
    assert first["output"] == "mine 1\n"
    other = AsyncKernelClient()
    other.load_connection_file(str(Path(jp_serverapp.runtime_dir) / f"kernel-{kernel['id']}.json"))
    other.start_channels()
    try:
        await other.wait_for_ready(timeout=30)
        for i in range(3):
            reply = await other.execute_interactive(f"print('notebook {i}')", output_hook=lambda m: None, timeout=30)
            assert reply["content"]["status"] == "ok"
    finally:
        other.stop_channels()
    status, second = await api(jp_fetch, "execute", method="POST", body={"code": "print('mine 2')", "kernelId": kernel["id"]})
    assert second["output"] == "mine 2\n" and second["exitCode"] == 0
    await jp_fetch("api", "kernels", kernel["id"], method="DELETE")
    status, gone = await api(jp_fetch, "execute", method="POST", body={"code": "1", "kernelId": kernel["id"]})
    assert (status, gone["code"]) == (404, "not_found")


async def test_a_request_whose_client_leaves_is_cancelled(jp_fetch: Fetch, workspace: Path) -> None:
    """The client gives up on a long run: the run is interrupted, so the kernel is free for the next one."""
    import json

    from tornado.httpclient import HTTPClientError

    kernel = json.loads((await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "python3"}))).body)
    with pytest.raises(HTTPClientError) as gave_up:
        await jp_fetch("nexus", "api", "execute", method="POST", request_timeout=2,
                       body=json.dumps({"kernelId": kernel["id"], "code": "import time\ntime.sleep(120)",
                                        "timeout": 300000}))
    assert gave_up.value.code == 599  # the client's own timeout: it closed the connection
    status, after = await api(jp_fetch, "execute", method="POST",
                              body={"kernelId": kernel["id"], "code": "print('free')", "timeout": 20000})
    assert status == 200 and after["output"] == "free\n" and after["exitCode"] == 0, after
