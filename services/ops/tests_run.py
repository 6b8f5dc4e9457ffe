"""``tests.run``: the workspace's tests (pytest, npm test, mvn, ctest as detected), run in a scratch copy of
the workspace and sandboxed like ``nexus run``, so a test that writes cannot touch the user's files."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Annotated

from pydantic import Field

from nexus.engine.paths import resolve_inside

from ..call import Call
from ..codec import WIRE, Float, PathText
from ..errors import ErrorCode, OperationError
from ..identity import Role
from ..operation import operation
from ..permission import Permission


@dataclasses.dataclass(frozen=True, slots=True)
class TestsParams:
    __pydantic_config__ = WIRE
    __test__ = False
    paths: Annotated[tuple[PathText, ...], Field(max_length=200)] = ()  # test files (pytest); default: all
    timeout: Annotated[Float, Field(gt=0, le=1800)] = 120.0  # seconds


@dataclasses.dataclass(frozen=True, slots=True)
class TestsResult:
    __pydantic_config__ = WIRE
    __test__ = False
    runner: str
    command: tuple[str, ...]
    exit_code: int
    passed: int
    failed: int
    timed_out: bool
    duration_ms: float
    summary: str
    output: str  # the end of the output, where the failures and the summary are


@operation("tests.run", params=TestsParams, result=TestsResult, role=Role.DEVELOPER, rate="execute",
           message="tests:run", permission=Permission.EXECUTE)
async def run(call: Call, p: TestsParams) -> TestsResult:
    """Run the workspace's tests (or some test files) in a sandboxed scratch copy; pass/fail counts and output."""
    from ..verify import Overlay, detect_tests, run_tests
    from ..verify.testrun import interpreter_for

    root = call.backends.workspace.root.resolve()
    targets = [resolve_inside(root, path).relative_to(root).as_posix() for path in p.paths]
    overlay = await asyncio.to_thread(Overlay, root)
    try:
        command = detect_tests(overlay.root, interpreter_for(root))  # the overlay has no .venv
        if command is None:
            raise OperationError(ErrorCode.UNAVAILABLE, "no test command found in the workspace (pytest, npm test, "
                                 "mvn, ctest)")
        done = await run_tests(overlay.root, call.backends.settings, command, targets, p.timeout)
    finally:
        await asyncio.to_thread(overlay.close)
    return TestsResult(done.runner, done.command, done.exit_code, done.passed, done.failed, done.timed_out,
                       round(done.duration_ms, 1), done.summary(), done.output)
