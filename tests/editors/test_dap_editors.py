"""Debugging from the editors' own configurations: the adapter and configurations that nexus.nvim
registers with nvim-dap, and those the VS Code extension contributes, run against the real `nexus dap`
(launch with a breakpoint, and attach to a kernel session this test process owns)."""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from nexus.kernels import EXIT_OK, ExecutionService, KernelSettings
from tests.dap.client import DapClient

from .conftest import VSCODE_DIR, server_command
from .test_neovim import SPECS, report, run_spec

pytestmark = pytest.mark.timeout(300)

PROGRAM = textwrap.dedent(
    """\
    def greet(name):
        message = "hello " + name
        return message

    print(greet("nexus"))
    """
)
CELL = "values = [n * n for n in range(4)]\ntotal = sum(values)\nprint('total', total)\n"

NVIM_CASES = (
    "without nvim-dap, setup() warns and registers nothing",
    ":checkhealth nexus says when nvim-dap is absent",
    "the adapter command is the server command with dap for lsp",
    "with nvim-dap, setup() registers the adapter and the Python configurations once",
    ":checkhealth nexus reports nvim-dap and the nexus adapter",
    "the session picker: none aborts, one is taken, several are offered",
    "the configurations resolve for a debug session",
)


@pytest.fixture
def sessions_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "sessions"
    monkeypatch.setenv("NEXUS_SESSIONS_DIR", str(folder))
    return folder


@pytest.fixture
async def service(sessions_dir: Path) -> AsyncIterator[ExecutionService]:
    async with ExecutionService(KernelSettings(pool={}, cull_idle_seconds=0)) as svc:
        yield svc


def substitute(config: dict[str, Any], file: Path) -> dict[str, Any]:
    """`${file}` and `${workspaceFolder}` as both editors expand them."""
    text = json.dumps(config).replace("${file}", str(file)).replace("${workspaceFolder}", str(file.parent))
    return dict(json.loads(text))


async def debug_launch(command: list[str], config: dict[str, Any], program: Path) -> None:
    """F5 on `program` with `config`: stop in greet(), read its locals, run to the end."""
    dap = await DapClient.spawn(command, cwd=str(program.parent))
    try:
        await dap.initialize(supportsRunInTerminalRequest=True)
        launched = dap.send("launch", substitute(config, program))
        await dap.wait_event("initialized")
        await dap.ok("setBreakpoints", {"source": {"path": str(program)}, "breakpoints": [{"line": 3}]})
        await dap.ok("configurationDone")
        reply = await launched
        assert reply["success"], reply
        stopped = await dap.wait_event("stopped")
        frames = (await dap.ok("stackTrace", {"threadId": stopped["body"]["threadId"]}))["stackFrames"]
        assert (frames[0]["name"], frames[0]["line"]) == ("greet", 3)
        scopes = (await dap.ok("scopes", {"frameId": frames[0]["id"]}))["scopes"]
        found = (await dap.ok("variables", {"variablesReference": scopes[0]["variablesReference"]}))["variables"]
        assert {v["name"]: v["value"] for v in found} == {"name": "'nexus'", "message": "'hello nexus'"}
        await dap.ok("continue", {"threadId": stopped["body"]["threadId"]})
        await dap.wait_event("terminated")
        await dap.ok("disconnect", {})
    finally:
        await dap.close()
    printed = dap.output("stdout") + b"".join(dap.terminal_output).decode()
    assert "hello nexus" in printed


async def debug_attach(command: list[str], config: dict[str, Any], service: ExecutionService, session_id: str) -> None:
    """Attach with `config`, break in a cell the session's owner runs, read a variable, continue."""
    dap = await DapClient.spawn(command)
    try:
        await dap.initialize()
        await dap.ok("attach", config)
        await dap.wait_event("initialized")
        path = (await dap.ok("dumpCell", {"code": CELL}))["sourcePath"]
        await dap.ok("setBreakpoints", {"source": {"path": path}, "breakpoints": [{"line": 2}]})
        await dap.ok("configurationDone")
        run = asyncio.create_task(service.execute(CELL, session_id=session_id))
        stopped = await dap.wait_event("stopped")
        frames = (await dap.ok("stackTrace", {"threadId": stopped["body"]["threadId"]}))["stackFrames"]
        value = await dap.ok("evaluate", {"expression": "values", "frameId": frames[0]["id"], "context": "hover"})
        assert value["result"] == "[0, 1, 4, 9]"
        await dap.ok("continue", {"threadId": stopped["body"]["threadId"]})
        result = await asyncio.wait_for(run, 30)
        assert (result.exit_code, result.output) == (EXIT_OK, "total 14\n")
        await dap.ok("disconnect", {})
    finally:
        await dap.close()


async def test_neovim_configurations(service: ExecutionService, sessions_dir: Path, tmp_path: Path) -> None:
    session_id = await service.open_session("python", "notebook-nvim")
    out = tmp_path / "resolved.json"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {
        **__import__("os").environ,
        "NEXUS_TEST_SERVER_CMD": json.dumps(server_command()),
        "NEXUS_DAP_STUBS": str(SPECS / "stubs"),
        "NEXUS_DAP_OUT": str(out),
        "NEXUS_DAP_SCRATCH": str(scratch),
    }
    home = tmp_path / "nvim"
    records = await asyncio.to_thread(run_spec, "dap_spec", home, tmp_path, env)
    assert [r["name"] for r in records] == list(NVIM_CASES)
    for name in NVIM_CASES:
        report(records, name)

    resolved = json.loads(out.read_text())
    adapter = resolved["adapter"]
    command = [adapter["command"], *adapter["args"]]
    assert command == [sys.executable, "-m", "nexus.cli", "dap"]
    assert resolved["attach"]["sessionId"] == session_id
    program = tmp_path / "greet.py"
    program.write_text(PROGRAM)
    await debug_launch(command, resolved["launch"], program)
    await debug_attach(command, resolved["attach"], service, session_id)


async def test_vscode_configurations(service: ExecutionService, tmp_path: Path) -> None:
    session_id = await service.open_session("python", "notebook-vscode")
    manifest = json.loads((VSCODE_DIR / "package.json").read_text())
    (contributed,) = manifest["contributes"]["debuggers"]
    launch, attach = contributed["initialConfigurations"]
    assert (launch["request"], attach["request"]) == ("launch", "attach")
    # what the extension starts with nexus.server.pythonPath set (test/debugConfig.test.ts checks the rules)
    command = [sys.executable, "-m", "nexus.cli", "dap"]
    program = tmp_path / "greet.py"
    program.write_text(PROGRAM)
    await debug_launch(command, launch, program)
    # an attach naming no session: the extension fills in the only Python session, as listed here
    proc = await asyncio.create_subprocess_exec(*command, "--list-sessions", stdout=asyncio.subprocess.PIPE)
    listed = json.loads((await proc.communicate())[0])
    assert [s["sessionId"] for s in listed if s["language"] == "python"] == [session_id]
    await debug_attach(command, {**attach, "sessionId": session_id}, service, session_id)
