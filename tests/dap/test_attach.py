"""`nexus dap` attaching to a kernel session that an ExecutionService in another process owns."""

from __future__ import annotations

import asyncio
import os
import textwrap

from nexus.kernels import EXIT_OK, ExecutionService

from .client import DapClient

CELL = textwrap.dedent(
    """\
    def scale(values):
        out = [v * factor for v in values]
        return out

    result = scale([1, 2, 3])
    print("scaled", result)
    """
)
RETURN_LINE = 3


async def frame_locals(dap: DapClient, frame_id: int) -> dict[str, str]:
    scopes = (await dap.ok("scopes", {"frameId": frame_id}))["scopes"]
    ref = next(s["variablesReference"] for s in scopes if s["name"] == "Locals")
    return {v["name"]: v["value"] for v in (await dap.ok("variables", {"variablesReference": ref}))["variables"]}


async def test_breakpoint_in_a_cell_executed_by_the_session_owner(service: ExecutionService, dap: DapClient) -> None:
    session_id = await service.open_session("python", "notebook-1")
    assert (await service.execute("factor = 3", session_id=session_id)).exit_code == EXIT_OK

    await dap.initialize()
    await dap.ok("attach", {"sessionId": session_id})
    await dap.wait_event("initialized")
    capabilities = await dap.wait_event("capabilities")
    assert capabilities["body"]["capabilities"]["supportsTerminateRequest"] is False
    source_path = (await dap.ok("dumpCell", {"code": CELL}))["sourcePath"]
    placed = await dap.ok("setBreakpoints", {"source": {"path": source_path}, "breakpoints": [{"line": RETURN_LINE}]})
    assert placed["breakpoints"][0]["verified"] is True
    await dap.ok("configurationDone")

    # the owner runs the cell, as Run Cell in the editor does; the debugger stops it
    run = asyncio.create_task(service.execute(CELL, session_id=session_id))
    stopped = await dap.wait_event("stopped")
    assert stopped["body"]["reason"] == "breakpoint"
    thread_id = stopped["body"]["threadId"]
    frames = (await dap.ok("stackTrace", {"threadId": thread_id}))["stackFrames"]
    top = frames[0]
    assert (top["name"], top["line"], top["source"]["path"]) == ("scale", RETURN_LINE, source_path)
    assert await frame_locals(dap, top["id"]) == {"values": "[1, 2, 3]", "out": "[3, 6, 9]"}
    watched = await dap.ok("evaluate", {"expression": "sum(out) * factor", "frameId": top["id"], "context": "watch"})
    assert watched["result"] == "54"
    # a sandboxed kernel's /tmp is private: the adapter then lets the kernel serve the cell's text
    readable_here = os.access(source_path, os.R_OK)
    assert bool(top["source"].get("sourceReference")) is not readable_here
    if not readable_here:
        reference = top["source"]["sourceReference"]
        shown = await dap.ok("source", {"source": top["source"], "sourceReference": reference})
        assert shown["content"] == CELL
    assert not run.done()

    await dap.ok("continue", {"threadId": thread_id})
    await dap.wait_event("continued")
    result = await asyncio.wait_for(run, 30)
    assert result.exit_code == EXIT_OK
    assert result.output == "scaled [3, 6, 9]\n"

    await dap.ok("disconnect", {})
    assert await dap.close() == 0
    # the debugger left the kernel as it found it: running, with its variables
    after = await service.execute("print(result, factor)", session_id=session_id)
    assert after.output == "[3, 6, 9] 3\n"


async def attach_with_breakpoint(dap: DapClient, session_id: str, line: int = RETURN_LINE) -> str:
    await dap.initialize()
    await dap.ok("attach", {"sessionId": session_id})
    await dap.wait_event("initialized")
    source_path = (await dap.ok("dumpCell", {"code": CELL}))["sourcePath"]
    await dap.ok("setBreakpoints", {"source": {"path": source_path}, "breakpoints": [{"line": line}]})
    await dap.ok("configurationDone")
    return str(source_path)


async def test_the_debug_console_runs_code_in_the_kernel(service: ExecutionService, dap: DapClient) -> None:
    session_id = await service.open_session("python", "console")
    await service.execute("factor = 2", session_id=session_id)
    await attach_with_breakpoint(dap, session_id)

    # nothing is stopped: a REPL evaluate is an execution in the session's kernel
    assert (await dap.ok("evaluate", {"expression": "factor * 21", "context": "repl"}))["result"] == "42"
    failed = await dap.request("evaluate", {"expression": "1 / 0", "context": "repl"})
    assert failed["success"] is False and failed["message"] == "ZeroDivisionError: division by zero"
    assert "ZeroDivisionError" in dap.output("stderr")

    # executing the cell from the console stops at its breakpoint; evaluate then runs in the frame
    running = dap.send("evaluate", {"expression": CELL, "context": "repl"})
    stopped = await dap.wait_event("stopped")
    frames = (await dap.ok("stackTrace", {"threadId": stopped["body"]["threadId"]}))["stackFrames"]
    in_frame = {"expression": "len(out)", "frameId": frames[0]["id"], "context": "repl"}
    assert (await dap.ok("evaluate", in_frame))["result"] == "3"
    assert not running.done()
    await dap.ok("continue", {"threadId": stopped["body"]["threadId"]})
    assert (await asyncio.wait_for(running, 30))["success"] is True
    assert "scaled [2, 4, 6]\n" in dap.output("stdout")
    await dap.ok("disconnect", {})
    assert await dap.close() == 0


async def test_time_stopped_at_a_breakpoint_is_not_a_timeout(service: ExecutionService, dap: DapClient) -> None:
    session_id = await service.open_session("python", "slow-user")
    await service.execute("factor = 1", session_id=session_id)
    await attach_with_breakpoint(dap, session_id)
    run = asyncio.create_task(service.execute(CELL, session_id=session_id, timeout=1.5))
    await dap.wait_event("stopped")
    await asyncio.sleep(2.5)  # a user reading variables for longer than the run's timeout
    assert not run.done()
    # leaving without "continue" resumes the code; the run completes instead of timing out
    await dap.ok("disconnect", {})
    result = await asyncio.wait_for(run, 30)
    assert (result.exit_code, result.output) == (EXIT_OK, "scaled [1, 2, 3]\n")
    assert await dap.close() == 0
    # breakpoints went with the debugger: the cell runs through
    again = await service.execute(CELL, session_id=session_id, timeout=10)
    assert again.output == "scaled [1, 2, 3]\n"


async def test_an_editor_that_vanishes_does_not_leave_the_kernel_stopped(
    service: ExecutionService, dap: DapClient
) -> None:
    session_id = await service.open_session("python", "crash")
    await service.execute("factor = 5", session_id=session_id)
    await attach_with_breakpoint(dap, session_id)
    run = asyncio.create_task(service.execute(CELL, session_id=session_id))
    await dap.wait_event("stopped")
    assert await dap.close() == 0  # the stream closes without a disconnect request
    result = await asyncio.wait_for(run, 30)
    assert result.output == "scaled [5, 10, 15]\n"
