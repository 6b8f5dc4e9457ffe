"""The execution service on real ipykernel kernels: one-shot, streaming, sessions, control, cancellation."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from jupyter_client.manager import AsyncKernelManager

from nexus.kernels import (
    AttachedKernel,
    Error,
    ExecutionResult,
    ExecutionService,
    NoSuchSessionError,
    Rich,
    Stream,
    UnknownLanguageError,
    run_code,
)


def sid() -> str:
    return uuid.uuid4().hex[:8]


async def test_one_shot_prints_and_returns_the_value(service: ExecutionService) -> None:
    result = await service.execute("print('Hello')\n6 * 7")
    assert result.exit_code == 0
    assert result.output == "Hello\n42\n"
    reply = result.to_json()
    assert reply["exitCode"] == 0 and reply["output"] == "Hello\n42\n"
    assert [o["output_type"] for o in reply["outputs"]] == ["stream", "execute_result"]
    assert isinstance(reply["executionTime"], int)


async def test_one_shot_runs_in_a_fresh_namespace(service: ExecutionService) -> None:
    await service.execute("leftover = 1")
    result = await service.execute("print('leftover' in dir())")
    assert result.output == "False\n"


async def test_error_gives_exit_code_1_and_the_python_traceback(service: ExecutionService) -> None:
    result = await service.execute("def f():\n    return 1 / 0\nf()")
    assert result.exit_code == 1
    assert isinstance(result.error, Error) and result.error.ename == "ZeroDivisionError"
    assert "division by zero" in result.output and "\x1b[" not in result.output


async def test_syntax_error_is_python_s_own_message(service: ExecutionService) -> None:
    result = await service.execute("def broken(:\n    pass")
    assert result.exit_code == 1
    assert result.error is not None and result.error.ename == "SyntaxError"
    assert "invalid syntax" in result.output


async def test_session_keeps_variables_between_executions(service: ExecutionService) -> None:
    session = sid()
    first = await service.execute("counter = 41", session_id=session)
    second = await service.execute("counter += 1\ncounter", session_id=session)
    assert (first.exit_code, second.output) == (0, "42\n")
    assert second.session_id == session and second.to_json()["sessionId"] == session
    await service.shutdown(session)


async def test_stream_yields_items_in_order_then_the_result(service: ExecutionService) -> None:
    code = "import sys\nprint('a', flush=True)\nprint('b', file=sys.stderr, flush=True)\nprint('c')\n'done'"
    events = [event async for event in service.stream(code)]
    assert isinstance(events[-1], ExecutionResult)
    items = events[:-1]
    assert "".join(i.text for i in items if isinstance(i, Stream) and i.name == "stdout") == "a\nc\n"
    assert any(isinstance(i, Stream) and i.name == "stderr" and i.text == "b\n" for i in items)
    assert isinstance(items[-1], Rich) and items[-1].text == "'done'\n"
    assert events[-1].outputs[-1] == items[-1]


async def test_display_data_comes_as_a_mime_bundle(service: ExecutionService) -> None:
    result = await service.execute("from IPython.display import HTML, display\ndisplay(HTML('<b>hi</b>'))")
    rich = [o for o in result.outputs if isinstance(o, Rich)]
    assert rich and rich[0].output_type == "display_data" and rich[0].data["text/html"] == "<b>hi</b>"


async def test_each_kernel_has_its_own_working_folder(service: ExecutionService) -> None:
    a, b = sid(), sid()
    cwd_a = (await service.execute("import os; print(os.getcwd())", session_id=a)).output
    cwd_b = (await service.execute("import os; print(os.getcwd())", session_id=b)).output
    assert cwd_a != cwd_b and cwd_a.strip().endswith("/work")
    await service.shutdown(a)
    await service.shutdown(b)


async def test_unknown_language_is_refused_by_name(service: ExecutionService) -> None:
    with pytest.raises(UnknownLanguageError, match="cobol.*known: cpp, java, javascript, python, typescript"):
        await service.execute("x", "cobol")


async def test_session_control_on_an_unknown_id_is_a_clear_error(service: ExecutionService) -> None:
    with pytest.raises(NoSuchSessionError, match="nope"):
        await service.interrupt("nope")
    with pytest.raises(NoSuchSessionError):
        await service.restart("nope")


async def test_interrupt_stops_a_running_cell_and_keeps_the_state(service: ExecutionService) -> None:
    session = sid()
    await service.execute("kept = 'yes'", session_id=session)
    events: list[object] = []

    async def run() -> None:
        async for event in service.stream(
            "import time\nprint('started', flush=True)\ntime.sleep(60)", session_id=session
        ):
            events.append(event)
            if isinstance(event, Stream) and "started" in event.text:
                await service.interrupt(session)

    await asyncio.wait_for(run(), 30)
    result = events[-1]
    assert isinstance(result, ExecutionResult) and result.exit_code == 1
    assert result.error is not None and result.error.ename == "KeyboardInterrupt"
    assert (await service.execute("kept", session_id=session)).output == "'yes'\n"
    await service.shutdown(session)


async def test_restart_loses_variables_but_keeps_the_session(service: ExecutionService) -> None:
    session = sid()
    await service.execute("gone = 1", session_id=session)
    await service.restart(session)
    result = await service.execute("'gone' in dir()", session_id=session)
    assert result.output == "False\n"
    await service.shutdown(session)


async def test_cancelled_caller_interrupts_the_kernel_which_stays_usable(service: ExecutionService) -> None:
    session = sid()
    await service.execute("state = 7", session_id=session)
    started = asyncio.Event()

    async def consume() -> None:
        async for event in service.stream(
            "import time\nprint('go', flush=True)\ntime.sleep(60)", session_id=session
        ):
            if isinstance(event, Stream):
                started.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), 20)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    after = await asyncio.wait_for(service.execute("state * 6", session_id=session), 20)
    assert after.output == "42\n"
    await service.shutdown(session)


async def test_idle_sessions_are_culled(service: ExecutionService) -> None:
    session = sid()
    await service.execute("1", session_id=session)
    culled = await service.cull(0)
    assert session in culled
    with pytest.raises(NoSuchSessionError):
        service.kernel(session)


async def test_debugger_reaches_the_session_kernel_control_channel(service: ExecutionService) -> None:
    session = await service.open_session("python")
    client = service.kernel(session).client
    msg = client.session.msg(
        "debug_request",
        {
            "type": "request",
            "seq": 1,
            "command": "initialize",
            "arguments": {"adapterID": "nexus", "clientID": "test"},
        },
    )
    client.control_channel.send(msg)
    reply = await client.get_control_msg(timeout=20)
    assert reply["header"]["msg_type"] == "debug_reply"
    assert reply["content"]["success"] is True and reply["content"]["command"] == "initialize"
    await service.shutdown(session)


async def test_run_code_works_on_a_plain_jupyter_client_kernel() -> None:
    """The seam the Jupyter extension uses with jupyter-server's own (Multi)KernelManager kernels."""
    manager = AsyncKernelManager(kernel_name="python3", transport="ipc")
    await manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        kernel = AttachedKernel(manager, client, "python")
        ok = await run_code(kernel, "print('attached')", timeout=20)
        slow = await run_code(kernel, "import time; time.sleep(30)", timeout=1, interrupt_grace=5)
        after = await run_code(kernel, "print('still here')", timeout=20)
        assert (ok.output, slow.exit_code, after.output) == ("attached\n", 124, "still here\n")
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)


async def test_one_shot_takes_a_pooled_kernel_and_the_pool_refills(service: ExecutionService) -> None:
    await service.wait_warm("python", timeout=60)
    assert service.pooled()["python"] == 1
    events = service.stream("print('from the pool')")
    first = await anext(events)  # the run has taken the pooled kernel by the time output arrives
    assert isinstance(first, Stream) and first.text == "from the pool\n"
    async for _ in events:
        pass
    await service.wait_warm("python", timeout=60)
    assert service.pooled()["python"] == 1


async def test_input_reads_the_callers_stdin_then_end_of_file(service: ExecutionService) -> None:
    lines = iter(["Ada", None])
    prompts: list[tuple[str, bool]] = []

    async def reader(prompt: str, password: bool) -> str | None:
        prompts.append((prompt, password))
        return next(lines)

    code = "a = input('name? ')\ntry:\n    input('more? ')\nexcept EOFError:\n    print('eof after', a)\n"
    result = await service.execute(code, stdin=reader, timeout=20)
    assert (result.exit_code, result.output) == (0, "eof after Ada\n")
    assert prompts == [("name? ", False), ("more? ", False)]
    # nobody to answer: end-of-file at once, not a hang until the timeout
    alone = await service.execute("try:\n    input()\nexcept EOFError:\n    print('eof')\n", timeout=20)
    assert (alone.exit_code, alone.output) == (0, "eof\n")
