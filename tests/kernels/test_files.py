"""Running a FILE as the language's own runner would, in the sandbox: real programs, real toolchains.

Per language: a program importing a sibling module and reading a file by a relative path, with
arguments, stdin and its own exit code; a compile (syntax) error and a runtime error whose reported
line is checked against the file; nothing new in the folder afterwards.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nexus.kernels import ExecutionService, UnknownLanguageError
from nexus.kernels.programs import UnknownFileTypeError
from nexus.kernels.sandbox import runtime_paths

from ..support.programs import CASES, TOOLS, line_of, snapshot, write
from .conftest import need


@pytest.fixture
def tmp_path(tmp_path: Path) -> Path:
    """A folder the sandbox user (nobody) may enter, as a user's project is: pytest's own is mode 0700."""
    folder = tmp_path / "w"
    folder.mkdir(mode=0o755)
    return folder


@pytest.mark.parametrize("language", list(CASES))
async def test_a_program_runs_like_its_own_runner(service: ExecutionService, tmp_path: Path, language: str) -> None:
    need(*TOOLS[language])
    case = CASES[language]
    folder = tmp_path / "project"
    write(folder, {**case.files, "notes.txt": "notes next to the program\n"})
    before = snapshot(folder)
    result = await service.run_file(folder / case.main, ["one", "two words"], stdin=b"typed input\n")
    assert result.exit_code == 3, result.output
    lines = result.output.splitlines()
    assert lines[0] == ('42 ["one","two words"]' if language != "python" else "42 ['one', 'two words']")
    assert lines[1:3] == ["notes next to the program", "stdin: typed input"]
    assert result.errors == () and result.to_json()["errors"] == []
    assert snapshot(folder) == before  # no build folder, no __pycache__, no a.out


@pytest.mark.parametrize("language", list(CASES))
async def test_a_compile_error_points_at_the_file_and_line(
    service: ExecutionService, tmp_path: Path, language: str
) -> None:
    need(*TOOLS[language])
    case = CASES[language]
    source = tmp_path / case.main
    source.write_text(case.syntax_error, encoding="utf-8")
    result = await service.run_file(source)
    assert result.exit_code == 1, result.output
    assert result.errors, result.output
    first = result.errors[0]
    assert first.path == str(source)
    assert first.line == line_of(source, case.syntax_marker), result.output
    if language == "cpp":  # g++'s own words and column, not a wrapper's
        assert first.message.startswith("expected primary-expression"), first.message
        assert first.column == source.read_text().splitlines()[first.line - 1].index("(x + )") + 6


@pytest.mark.parametrize("language", list(CASES))
async def test_a_runtime_error_points_at_the_line_that_failed(
    service: ExecutionService, tmp_path: Path, language: str
) -> None:
    need(*TOOLS[language])
    case = CASES[language]
    source = tmp_path / case.main
    source.write_text(case.runtime_error, encoding="utf-8")
    result = await service.run_file(source)
    assert result.exit_code != 0 and result.output.startswith("before\n"), result.output
    assert result.errors, result.output
    assert (result.errors[0].path, result.errors[0].line) == (str(source), line_of(source, case.runtime_marker))
    assert result.errors[0].message


async def test_java_runs_the_first_top_level_class_of_a_packaged_file(
    service: ExecutionService, tmp_path: Path
) -> None:
    need("java", "javac")
    package = tmp_path / "src" / "app"
    write(package, {
        "hello.java": "package app;\n\nclass Hello {\n    public static void main(String[] args) {\n"
                      "        System.out.println(Greeting.text() + \" \" + new Other().name());\n    }\n}\n\n"
                      "class Other {\n    String name() { return \"from one file\"; }\n}\n",
        "Greeting.java": "package app;\n\npublic class Greeting {\n    static String text() { return \"hello\"; }\n}\n",
    })
    result = await service.run_file(package / "hello.java")
    assert (result.exit_code, result.output) == (0, "hello from one file\n")


async def test_without_stdin_a_program_reads_end_of_file_at_once(service: ExecutionService, tmp_path: Path) -> None:
    script = tmp_path / "ask.py"
    script.write_text("try:\n    input('name? ')\nexcept EOFError:\n    print('eof')\n")
    result = await service.run_file(script, timeout=20)
    assert (result.exit_code, result.output) == (0, "name? eof\n")


async def test_a_signal_is_reported_as_a_shell_would(service: ExecutionService, tmp_path: Path) -> None:
    script = tmp_path / "die.py"
    script.write_text("import os, signal\nprint('bye', flush=True)\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    result = await service.run_file(script)
    assert (result.exit_code, result.output) == (139, "bye\n")
    assert "SIGSEGV" in result.reason


async def test_a_timeout_stops_the_program_and_keeps_its_output(service: ExecutionService, tmp_path: Path) -> None:
    script = tmp_path / "spin.py"
    script.write_text("print('started', flush=True)\nwhile True:\n    pass\n")
    result = await service.run_file(script, timeout=2)
    assert result.exit_code == 124 and result.output.startswith("started\n")
    assert result.reason == "timed out after 2 s"


async def test_the_working_folder_and_writable_mounts(service: ExecutionService, tmp_path: Path) -> None:
    code, data = tmp_path / "code", tmp_path / "data"
    code.mkdir()
    data.mkdir()
    (data / "input.txt").write_text("from the data folder\n")
    script = code / "io.py"
    script.write_text(
        "import os\nprint(os.getcwd())\nprint(open('input.txt').read().strip())\n"
        "try:\n    open('out.txt', 'w').write('x')\n    print('wrote')\nexcept OSError as exc:\n    print(exc.errno)\n"
    )
    result = await service.run_file(script, cwd=data)
    assert result.output.splitlines() == [str(data), "from the data folder", "30"]  # EROFS: read-only
    os.chmod(data, 0o777)  # the sandbox user (nobody) may write it when the mount is writable
    result = await service.run_file(script, cwd=data, writable=True)
    assert result.output.splitlines()[-1] == "wrote" and (data / "out.txt").read_text() == "x"


async def test_the_sandbox_still_hides_homes_and_secrets(service: ExecutionService, tmp_path: Path) -> None:
    script = tmp_path / "peek.py"
    script.write_text(
        "import os\nprint(sorted(os.listdir('/root')))\nprint(os.getuid() if os.geteuid() else 'root')\n"
        "print(sorted(k for k in os.environ if 'SECRET' in k or 'API_KEY' in k))\n"
    )
    os.environ["NEXUS_GATEWAY_SECRET"] = "do-not-leak"
    try:
        result = await service.run_file(script)
    finally:
        del os.environ["NEXUS_GATEWAY_SECRET"]
    # /root shows only what the runtimes are bound back from (an interpreter under /root/.pyenv, say)
    runtimes = {Path(p).relative_to("/root").parts[0] for p in runtime_paths() if p.startswith("/root/")}
    assert set(eval(result.output.splitlines()[0])) <= runtimes, result.output
    assert result.output.splitlines()[2] == "[]", result.output
    assert "root" not in result.output.splitlines()[1]


async def test_an_unknown_extension_is_an_error_naming_the_known_ones(
    service: ExecutionService, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("print('not python')\n")
    with pytest.raises(UnknownFileTypeError) as raised:
        await service.run_file(notes)
    assert ".py" in str(raised.value) and ".java" in str(raised.value) and "--lang" in str(raised.value)
    result = await service.run_file(notes, language="python")
    assert result.output == "not python\n"
    with pytest.raises(UnknownLanguageError):
        await service.run_file(notes, language="cobol")


async def test_leaving_a_run_early_stops_the_program(service: ExecutionService, tmp_path: Path) -> None:
    import psutil

    script = tmp_path / "long_running.py"
    script.write_text("import time\nprint('go', flush=True)\ntime.sleep(600)\n")
    events = service.stream_file(script, timeout=60)
    first = await events.__anext__()
    assert first.text.startswith("go")  # type: ignore[union-attr]
    await events.aclose()
    left = [p for p in psutil.process_iter(["cmdline"]) if str(script) in " ".join(p.info["cmdline"] or ())]
    assert left == []


@pytest.mark.parametrize(("name", "source", "marker"), [
    ("lib.py", "import json\n\n\ndef load(text):\n    return json.loads(text)  # here\n\n\nload('{')\n", "json.loads"),
    ("lib.js", "function load(text) {\n  return JSON.parse(text);  // here\n}\nload('{');\n", "JSON.parse"),
])
async def test_an_error_raised_inside_a_library_points_at_the_users_call(
    service: ExecutionService, tmp_path: Path, name: str, source: str, marker: str
) -> None:
    if name.endswith(".js"):
        need("node")
    script = tmp_path / name
    script.write_text(source)
    result = await service.run_file(script)
    assert result.exit_code == 1 and result.errors, result.output
    assert (result.errors[0].path, result.errors[0].line) == (str(script), line_of(script, marker))
