"""``ide:execute`` end to end: a real gateway, real ``websockets`` clients and real ipykernel kernels started
by the ``nexus.kernels`` execution service (the same handler module serves the Jupyter extension, whose
tests drive it through jupyter-server's kernel manager)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..support.programs import CASES, first_line, line_of, need_tools, project, snapshot
from .wsclient import Client, client, error_code

Start = Callable[..., Any]


async def run(c: Client, payload: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Send one ide:execute; return its ide:output data and the final reply (ide:result or error)."""
    rid = await c.send("ide:execute", payload)
    outputs = []
    while True:
        reply = await c.recv()
        assert reply["id"] == rid, reply
        if reply["type"] != "ide:output":
            return outputs, reply
        outputs.append(reply["data"])


async def test_output_streams_then_the_result(start: Start) -> None:
    code = "import sys\nprint('one', flush=True)\nprint('two', file=sys.stderr, flush=True)\n6 * 7"
    async with start() as gw, client(gw, "dave") as c:
        outputs, result = await run(c, {"language": "python", "code": code, "timeout": 30000})
        assert result["type"] == "ide:result"
        data = result["data"]
        assert data["exitCode"] == 0 and data["output"] == "one\ntwo\n42\n"
        assert isinstance(data["executionTime"], int) and data["truncated"] is False
        assert [(o["stream"], o["text"]) for o in outputs] == [("stdout", "one\n"), ("stderr", "two\n"), (None, "42\n")]
        assert outputs[2]["output"]["output_type"] == "execute_result"
        assert outputs[2]["output"]["data"] == {"text/plain": "42"}
        assert [o["output_type"] for o in data["outputs"]] == ["stream", "stream", "execute_result"]

        outputs, failed = await run(c, {"code": "1 / 0"})
        assert failed["type"] == "ide:result" and failed["data"]["exitCode"] == 1
        assert outputs[-1]["output"]["ename"] == "ZeroDivisionError" and "ZeroDivisionError" in outputs[-1]["text"]
        assert gw.metrics.active_kernels.get() == 0


async def test_timeout_is_in_milliseconds_and_interrupts(start: Start) -> None:
    async with start() as gw, client(gw, "dave") as c:
        _, timed_out = await run(c, {"code": "import time\nprint('start', flush=True)\ntime.sleep(60)",
                                     "timeout": 1500, "sessionId": "slow"})
        data = timed_out["data"]
        assert data["exitCode"] == 124 and data["reason"] == "timed out after 1.5 s"
        assert data["output"].startswith("start\n") and data["sessionId"] == "slow"
        _, after = await run(c, {"code": "print('still alive')", "sessionId": "slow"})
        assert after["data"]["output"] == "still alive\n"


async def test_sessions_keep_state_per_user(start: Start) -> None:
    async with start() as gw:
        async with client(gw, "dave") as dave, client(gw, "alice") as alice:
            _, first = await run(dave, {"code": "x = 41", "sessionId": "notebook"})
            assert first["data"]["exitCode"] == 0 and first["data"]["sessionId"] == "notebook"
            _, second = await run(dave, {"code": "x + 1", "sessionId": "notebook"})
            assert second["data"]["output"] == "42\n"
            assert gw.metrics.active_kernels.get() == 1  # dave's session
            _, other = await run(alice, {"code": "x", "sessionId": "notebook"})
            assert other["data"]["exitCode"] == 1 and "NameError" in other["data"]["output"]
            _, fresh = await run(dave, {"code": "x"})  # no session: a fresh kernel
            assert fresh["data"]["exitCode"] == 1


async def test_cancel_interrupts_the_kernel(start: Start) -> None:
    async with start() as gw, client(gw, "dave") as c:
        rid = await c.send("ide:execute", {"code": "import time\nprint('go', flush=True)\ntime.sleep(60)",
                                           "sessionId": "s"})
        first = await c.recv()
        assert (first["id"], first["type"], first["data"]["text"]) == (rid, "ide:output", "go\n")
        cancel_id = await c.send("cancel", {"id": rid})
        seen = {}
        while len(seen) < 2:
            reply = await c.recv()
            seen[reply["id"]] = reply
        assert seen[rid]["type"] == "error" and seen[rid]["data"]["code"] == "cancelled"
        assert seen[cancel_id]["data"] == {"id": rid, "cancelled": True}
        _, after = await run(c, {"code": "print('usable')", "sessionId": "s"})
        assert after["data"]["output"] == "usable\n"


async def test_bad_payloads_are_refused_before_any_kernel_starts(start: Start) -> None:
    async with start() as gw, client(gw, "dave") as c:
        cases = [
            ({}, "payload.code or payload.path is required"),
            ({"code": ["print(1)"]}, "payload.code must be a string"),
            ({"code": "1", "timeout": "30s"}, "payload.timeout must be a number"),
            ({"code": "1", "timeout": 0}, "payload.timeout must be between 1 and 3600000"),
            ({"code": "1", "timeout": 10**9}, "payload.timeout must be between"),
            ({"code": "1", "sessionId": "a b"}, "payload.sessionId must be"),
            ({"code": "1", "sessionId": "a", "kernelId": "b"}, "cannot be used together"),
            ({"code": "1", "kernelId": "abc"}, "use payload.sessionId"),
            ({"code": "1", "language": "cobol"}, "payload.language: unknown language 'cobol'"),
        ]
        for payload, message in cases:
            _, reply = await run(c, payload)
            assert error_code(reply) == "bad_request", payload
            assert message in reply["data"]["message"], (payload, reply)
        assert gw.services is not None and gw.services.kernels is not None
        assert gw.metrics.active_kernels.get() == 0


@pytest.mark.parametrize("language", list(CASES))
async def test_a_workspace_file_runs_as_a_program(start: Start, workspace: Path, language: str) -> None:
    need_tools(language)
    main = project(workspace / "prog", language)
    before = snapshot(workspace)
    async with start() as gw, client(gw, "dave") as c:
        outputs, reply = await run(c, {"path": f"prog/{main.name}", "args": ["one", "two words"], "timeout": 120000})
        data = reply["data"]
        assert reply["type"] == "ide:result" and data["exitCode"] == 3, data
        assert data["output"].splitlines() == [first_line(language), "notes next to the program", "stdin: "]
        assert data["errors"] == [] and "".join(o["text"] for o in outputs) == data["output"]

        (workspace / "bad").mkdir()
        bad = workspace / "bad" / main.name
        bad.write_text(CASES[language].runtime_error)
        _, failed = await run(c, {"path": f"bad/{bad.name}", "timeout": 120000})
        error = failed["data"]["errors"][0]
        assert failed["data"]["exitCode"] != 0
        assert (error["path"], error["line"]) == (f"bad/{bad.name}", line_of(bad, CASES[language].runtime_marker))
    shutil.rmtree(workspace / "bad")
    assert snapshot(workspace) == before  # nothing built or cached in the workspace


async def test_a_file_run_stays_in_the_workspace_and_says_what_is_wrong(start: Start, workspace: Path) -> None:
    (workspace / "notes.txt").write_text("not a program\n")
    (workspace / "sub").mkdir()
    async with start() as gw, client(gw, "dave") as c:
        _, outside = await run(c, {"path": "../secret.py"})
        assert error_code(outside) == "invalid_path"
        _, cwd_outside = await run(c, {"path": "src/app.py", "cwd": "/etc"})
        assert error_code(cwd_outside) == "invalid_path"
        _, unknown = await run(c, {"path": "notes.txt"})
        assert error_code(unknown) == "bad_request" and ".py" in unknown["data"]["message"]
        _, both = await run(c, {"path": "src/app.py", "code": "print(1)"})
        assert error_code(both) == "bad_request"
        _, missing = await run(c, {"path": "src/absent.py"})
        assert error_code(missing) == "not_found"
        _, in_sub = await run(c, {"path": "src/app.py", "cwd": "sub", "args": ["x"]})
        assert in_sub["data"]["exitCode"] == 0 and in_sub["data"]["output"] == "héllo\n"
