"""What `nexus dap` answers when a configuration cannot work: an error the user can act on, and a
session that stays usable."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import psutil

from nexus.kernels import ExecutionService

from .client import DapClient


def kill_kernel(service: ExecutionService, session_id: str) -> None:
    """SIGKILL the session's kernel with everything it started (bubblewrap, ipykernel)."""
    pid = service.kernel(session_id).pid  # type: ignore[attr-defined]
    process = psutil.Process(pid)
    for proc in [*process.children(recursive=True), process]:
        with contextlib.suppress(ProcessLookupError):  # killing bwrap's pid-namespace init kills the rest
            os.kill(proc.pid, signal.SIGKILL)
    psutil.wait_procs([process], timeout=10)


async def test_launch_of_a_missing_program_then_a_good_one(dap: DapClient, tmp_path: Path) -> None:
    await dap.initialize()
    early = await dap.request("threads")
    assert early["success"] is False and "launch or attach first" in early["message"]

    missing = tmp_path / "nope.py"
    reply = await dap.request("launch", {"program": str(missing)})
    assert reply["success"] is False
    assert reply["message"] == f"program not found: {missing}"
    assert reply["body"]["error"]["showUser"] is True
    reply = await dap.request("launch", {"program": "x.py", "cwd": str(tmp_path / "no-such-dir")})
    assert reply["message"] == f"working folder (cwd) not found: {tmp_path / 'no-such-dir'}"
    reply = await dap.request("launch", {"args": ["x"]})
    assert reply["message"] == 'a launch configuration needs "program" (a file), "module" or "code"'
    reply = await dap.request("launch", {"module": "json.tool", "python": "/no/such/python3"})
    assert reply["message"] == "python interpreter not found: /no/such/python3"

    # nothing was started by the failures: the same session launches a good program
    launched = dap.send("launch", {"code": "print('still usable')"})
    await dap.wait_event("initialized")
    await dap.ok("configurationDone")
    assert (await launched)["success"] is True
    assert (await dap.wait_event("exited"))["body"]["exitCode"] == 0
    assert "still usable" in dap.output("stdout")
    await dap.ok("disconnect", {})
    assert await dap.close() == 0


async def test_attach_to_an_unknown_session_lists_the_running_ones(
    service: ExecutionService, dap: DapClient, tmp_path: Path
) -> None:
    await service.open_session("python", "real-one")
    await dap.initialize()
    reply = await dap.request("attach", {"sessionId": "typo"})
    assert reply["success"] is False
    assert reply["message"].startswith("no running kernel session 'typo' to attach to (running sessions: real-one (python")
    reply = await dap.request("attach", {"connectionFile": str(tmp_path / "kernel-x.json")})
    assert reply["message"] == f"kernel connection file not found: {tmp_path / 'kernel-x.json'}"
    await dap.ok("disconnect", {})


async def test_attach_to_a_dead_kernel(service: ExecutionService, dap: DapClient) -> None:
    session_id = await service.open_session("python", "doomed")
    kill_kernel(service, session_id)
    await dap.initialize()
    reply = await dap.request("attach", {"sessionId": session_id})
    assert reply["success"] is False
    assert reply["message"] == (
        "the python kernel of session 'doomed' is not running: it did not answer a heartbeat within 2 s "
        "(it may have died or been shut down)"
    )
    await dap.ok("disconnect", {})


async def test_attach_to_a_kernel_without_a_debugger(service: ExecutionService, dap: DapClient) -> None:
    session_id = await service.open_session("javascript", "js")
    await dap.initialize()
    reply = await dap.request("attach", {"sessionId": session_id})
    assert reply["success"] is False
    assert reply["message"] == (
        "the javascript kernel of session 'js' has no debugger support (nexus-javascript kernel for "
        "javascript); debugging needs a Python kernel on ipykernel 6+ with debugpy"
    )
    await dap.ok("disconnect", {})


async def test_a_kernel_that_dies_while_attached_ends_the_session(service: ExecutionService, dap: DapClient) -> None:
    session_id = await service.open_session("python", "short-lived")
    await dap.initialize()
    await dap.ok("attach", {"sessionId": session_id})
    kill_kernel(service, session_id)
    await dap.wait_event("terminated")
    assert "the python kernel of session 'short-lived' died (no heartbeat)" in dap.output("important")
    reply = await dap.request("threads")
    assert reply["success"] is False and "the debug session has ended" in reply["message"]
    await dap.ok("disconnect", {})
    assert await dap.close() == 0


async def test_a_kernel_restarted_by_its_owner_ends_the_session(service: ExecutionService, dap: DapClient) -> None:
    session_id = await service.open_session("python", "restarted")
    await dap.initialize()
    await dap.ok("attach", {"sessionId": session_id})
    await service.restart(session_id)
    await dap.wait_event("terminated")
    assert "the debug session has ended" in dap.output("important")
    await dap.ok("disconnect", {})
    assert await dap.close() == 0
