"""`nexus dap` launching Python programs under debugpy, driven like an editor drives it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from .client import DapClient

PROGRAM = textwrap.dedent(
    """\
    import os
    import sys

    def area(width, height):
        result = width * height
        return result

    total = 0
    for side in range(3):
        total += area(side, side + 1)
    print("total", total, area(6, 7), sys.argv[1:], os.environ.get("NEXUS_DAP_TEST"))
    """
)
AREA_BODY = 5  # `result = width * height`
LOOP_CALL = 10  # `total += area(side, side + 1)`


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "shapes.py"
    path.write_text(PROGRAM)
    return path


async def variables(dap: DapClient, frame_id: int, scope: str = "Locals") -> dict[str, str]:
    scopes = (await dap.ok("scopes", {"frameId": frame_id}))["scopes"]
    ref = next(s["variablesReference"] for s in scopes if s["name"] == scope)
    found = (await dap.ok("variables", {"variablesReference": ref}))["variables"]
    return {v["name"]: v["value"] for v in found}


async def test_breakpoint_stack_variables_continue_exit(dap: DapClient, program: Path) -> None:
    capabilities = await dap.initialize()
    assert capabilities["supportsConfigurationDoneRequest"] is True
    launched = dap.send(
        "launch",
        {
            "program": str(program),
            "args": ["--flag"],
            "cwd": str(program.parent),
            "env": {"NEXUS_DAP_TEST": "yes"},
            "justMyCode": True,
        },
    )
    await dap.wait_event("initialized")
    reply = await dap.ok(
        "setBreakpoints",
        {"source": {"path": str(program)}, "breakpoints": [{"line": AREA_BODY, "condition": "width == 2"}]},
    )
    assert reply["breakpoints"][0]["verified"] is True
    await dap.ok("configurationDone")
    assert (await launched)["success"] is True

    stopped = await dap.wait_event("stopped")
    assert stopped["body"]["reason"] == "breakpoint"
    thread_id = stopped["body"]["threadId"]
    threads = (await dap.ok("threads"))["threads"]
    assert thread_id in [t["id"] for t in threads]
    frames = (await dap.ok("stackTrace", {"threadId": thread_id}))["stackFrames"]
    assert [(f["name"], f["line"]) for f in frames[:2]] == [("area", AREA_BODY), ("<module>", LOOP_CALL)]
    assert Path(frames[0]["source"]["path"]) == program.resolve()
    # the condition held: the loop's third call
    assert await variables(dap, frames[0]["id"]) == {"width": "2", "height": "3"}
    outer = await variables(dap, frames[1]["id"], "Globals")
    assert outer["total"] == "2" and outer["side"] == "2"
    evaluated = await dap.ok("evaluate", {"expression": "width * height", "frameId": frames[0]["id"], "context": "watch"})
    assert evaluated["result"] == "6"

    await dap.ok("continue", {"threadId": thread_id})
    exited = await dap.wait_event("exited")
    assert exited["body"]["exitCode"] == 0
    await dap.wait_event("terminated")
    assert "total 8 42 ['--flag'] yes" in dap.output("stdout")
    await dap.ok("disconnect", {})
    assert await dap.close() == 0


RISKY = textwrap.dedent(
    """\
    def risky(n):
        if n == 2:
            raise ValueError(f"bad {n}")
        return n

    for n in range(4):
        try:
            risky(n)
        except ValueError:
            pass
    print("done")
    """
)


async def test_logpoints_exception_breakpoints_and_stepping(dap: DapClient, tmp_path: Path) -> None:
    program = tmp_path / "risky.py"
    program.write_text(RISKY)
    await dap.initialize()
    launched = dap.send("launch", {"program": str(program), "justMyCode": True})
    await dap.wait_event("initialized")
    await dap.ok(
        "setBreakpoints",
        {
            "source": {"path": str(program)},
            "breakpoints": [{"line": 4, "logMessage": "ok {n}"}, {"line": 8, "condition": "n == 3"}],
        },
    )
    await dap.ok("setExceptionBreakpoints", {"filters": ["raised"]})
    await dap.ok("configurationDone")
    assert (await launched)["success"] is True

    raised = await dap.wait_event("stopped")
    assert raised["body"]["reason"] == "exception"
    thread_id = raised["body"]["threadId"]
    info = await dap.ok("exceptionInfo", {"threadId": thread_id})
    assert (info["exceptionId"], info["description"]) == ("ValueError", "bad 2")
    logged = dap.output("console") + dap.output("stdout")
    assert (logged.count("ok 0"), logged.count("ok 1"), logged.count("ok 2")) == (1, 1, 0)  # the logpoint
    await dap.ok("setExceptionBreakpoints", {"filters": []})  # else it stops again in the caller's frame
    await dap.ok("continue", {"threadId": thread_id})

    at_call = await dap.wait_event("stopped")
    assert at_call["body"]["reason"] == "breakpoint"

    async def top() -> tuple[str, int]:
        frame = (await dap.ok("stackTrace", {"threadId": thread_id, "levels": 1}))["stackFrames"][0]
        return frame["name"], frame["line"]

    assert await top() == ("<module>", 8)
    await dap.ok("stepIn", {"threadId": thread_id})
    assert (await dap.wait_event("stopped"))["body"]["reason"] == "step"
    assert await top() == ("risky", 2)
    await dap.ok("next", {"threadId": thread_id})
    await dap.wait_event("stopped")
    assert await top() == ("risky", 4)
    await dap.ok("stepOut", {"threadId": thread_id})
    await dap.wait_event("stopped")
    assert (await top())[0] == "<module>"
    await dap.ok("continue", {"threadId": thread_id})
    assert (await dap.wait_event("exited"))["body"]["exitCode"] == 0
    assert "done" in dap.output("stdout")
    await dap.ok("disconnect", {})
    assert await dap.close() == 0
