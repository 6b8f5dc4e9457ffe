"""JavaScript, TypeScript, Java and C++ through their wrapper kernels, started by the service itself."""

from __future__ import annotations

import uuid

import pytest

from nexus.kernels import EXIT_ERROR, EXIT_KILLED, EXIT_OK, EXIT_TIMEOUT, ExecutionService, Rich
from nexus.kernels.javascript.runtime import find_typescript

from .conftest import need


def sid() -> str:
    return uuid.uuid4().hex[:8]


# --- JavaScript ---------------------------------------------------------------------------------


async def test_javascript_keeps_state_and_shows_values(service: ExecutionService) -> None:
    need("node")
    session = sid()
    first = await service.execute(
        "const greet = (n) => `hi ${n}`;\nconsole.log(greet('a'))", "js", session_id=session
    )
    second = await service.execute(
        "const greet = (n) => `hey ${n}`;\ngreet('b')", "javascript", session_id=session
    )
    assert (first.exit_code, first.output) == (EXIT_OK, "hi a\n")
    assert second.output == "'hey b'\n"  # re-running a const declaration works, like a notebook needs
    awaited = await service.execute(
        "const v = await Promise.resolve(41)\nv + 1", "javascript", session_id=session
    )
    assert awaited.output == "42\n"
    assert (await service.execute("v", "javascript", session_id=session)).output == "41\n"
    await service.shutdown(session)


async def test_javascript_errors_are_node_s_own(service: ExecutionService) -> None:
    need("node")
    syntax = await service.execute("function (", "javascript")
    assert syntax.exit_code == EXIT_ERROR
    assert syntax.error is not None and syntax.error.ename == "SyntaxError"
    thrown = await service.execute("null.x", "javascript")
    assert thrown.error is not None and thrown.error.ename == "TypeError"
    assert "Cannot read properties of null" in thrown.output


async def test_javascript_display_and_interrupt(service: ExecutionService) -> None:
    need("node")
    session = sid()
    shown = await service.execute("display.html('<i>x</i>')", "javascript", session_id=session)
    assert isinstance(shown.outputs[0], Rich) and shown.outputs[0].data["text/html"] == "<i>x</i>"
    await service.execute("let n = 5", "javascript", session_id=session)
    looped = await service.execute(
        "console.log('spin'); while (true) {}", "javascript", session_id=session, timeout=1.5
    )
    assert looped.exit_code == EXIT_TIMEOUT and looped.output.startswith("spin\n")
    assert "the kernel was interrupted" in looped.output
    assert (await service.execute("n * 2", "javascript", session_id=session)).output == "10\n"
    await service.shutdown(session)


async def test_javascript_heap_limit(service: ExecutionService) -> None:
    need("node")
    session = sid()
    result = await service.execute(
        "const hog = []; while (true) hog.push(new Array(1e6).fill(1.5))",
        "javascript",
        session_id=session,
        timeout=60,
    )
    assert result.exit_code == EXIT_KILLED and result.reason == "memory limit of 512 MB exceeded"
    assert (await service.execute("1 + 1", "javascript", session_id=session)).output == "2\n"
    await service.shutdown(session)


# --- TypeScript ---------------------------------------------------------------------------------


async def test_typescript_types_are_stripped_and_state_kept(service: ExecutionService) -> None:
    need("node")
    if find_typescript() is None:
        pytest.skip("the typescript npm package is not installed (scripts/test.sh installs it)")
    session = sid()
    await service.execute(
        "interface P { x: number }\nconst p: P = { x: 2 };\nenum C { R, G }", "ts", session_id=session
    )
    result = await service.execute(
        "const twice = (n: number): number => n * 2;\ntwice(p.x) + C.G", "ts", session_id=session
    )
    assert result.output == "5\n"
    await service.shutdown(session)


async def test_typescript_syntax_errors_are_tsc_diagnostics(service: ExecutionService) -> None:
    need("node")
    if find_typescript() is None:
        pytest.skip("the typescript npm package is not installed (scripts/test.sh installs it)")
    result = await service.execute("let x: = 3", "typescript")
    assert result.exit_code == EXIT_ERROR
    assert result.error is not None and result.error.evalue == "TS1110: Type expected."
    assert "cell[1]:1:8 - error TS1110: Type expected." in result.output


# --- Java ---------------------------------------------------------------------------------------


async def test_java_keeps_state_through_jshell(service: ExecutionService) -> None:
    need("java", "javac")
    session = sid()
    first = await service.execute(
        'int base = 40;\nint add(int a) { return base + a; }\nSystem.out.println("ready");',
        "java",
        session_id=session,
    )
    second = await service.execute("add(2)", "java", session_id=session)
    assert (first.exit_code, first.output, second.output) == (EXIT_OK, "ready\n", "42\n")
    broken = await service.execute("int y = ;", "java", session_id=session)
    assert broken.exit_code == EXIT_ERROR
    assert broken.error is not None and broken.error.ename == "CompilationError"
    assert broken.error.evalue == "illegal start of expression"
    thrown = await service.execute("Object o = null; o.hashCode();", "java", session_id=session)
    assert thrown.error is not None and thrown.error.ename == "NullPointerException"
    looped = await service.execute("while (true) {}", "java", session_id=session, timeout=2)
    assert looped.exit_code == EXIT_TIMEOUT and "KeyboardInterrupt" in looped.output
    assert (await service.execute("add(1)", "java", session_id=session)).output == "41\n"
    await service.shutdown(session)


# --- C++ ----------------------------------------------------------------------------------------


async def test_cpp_keeps_definitions_between_cells(service: ExecutionService) -> None:
    need("g++")
    session = sid()
    first = await service.execute(
        "#include <vector>\nint scale = 3;\nint f(int a) { return a * scale; }\n"
        "std::cout << f(2) << std::endl;",
        "cpp",
        session_id=session,
    )
    second = await service.execute(
        "int f(int a) { return a * scale + 1; }\nstd::vector<int> v{f(1)};\nstd::cout << v[0] << '\\n';",
        "c++",
        session_id=session,
    )
    assert (first.exit_code, first.output, second.output) == (EXIT_OK, "6\n", "4\n")
    await service.shutdown(session)


async def test_cpp_compiler_errors_and_crashes(service: ExecutionService) -> None:
    need("g++")
    session = sid()
    broken = await service.execute("int x = ;", "cpp", session_id=session)
    assert broken.exit_code == EXIT_ERROR
    assert broken.error is not None and broken.error.ename == "CompileError"
    assert broken.error.evalue == "cell[1]:1:9: expected primary-expression before ';' token"
    crash = await service.execute("int* p = nullptr;\n*p = 1;", "cpp", session_id=session)
    assert crash.error is not None and crash.error.evalue == "Segmentation fault"
    assert (await service.execute('std::cout << "fine\\n";', "cpp", session_id=session)).output == "fine\n"
    await service.shutdown(session)
