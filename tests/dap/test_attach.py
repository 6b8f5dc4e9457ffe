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
