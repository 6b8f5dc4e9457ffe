"""Running a FILE as the language's own runner would, in the sandbox: real programs, real toolchains.

Per language: a program importing a sibling module and reading a file by a relative path, with
arguments, stdin and its own exit code; a compile (syntax) error and a runtime error whose reported
line is checked against the file; nothing new in the folder afterwards.
"""

from __future__ import annotations

import dataclasses
import os
import textwrap
from pathlib import Path

import pytest

from nexus.kernels import ExecutionService, UnknownLanguageError
from nexus.kernels.programs import UnknownFileTypeError
from nexus.kernels.sandbox import runtime_paths

from .conftest import need

TOOLS = {"python": (), "javascript": ("node",), "typescript": ("node",), "java": ("java", "javac"), "cpp": ("g++",)}


@dataclasses.dataclass(frozen=True)
class Case:
    main: str  # file name of the program
    files: dict[str, str]  # the program and its siblings
    syntax_error: str  # a program that does not compile (or parse)
    syntax_marker: str  # the text the compiler points at, on the line it must report
    runtime_error: str  # a program that fails while running
    runtime_marker: str  # the text on the line the error must be reported at


CASES = {
    "python": Case(
        "main.py",
        {
            "main.py": """\
                import sys
                import util

                print(util.double(21), sys.argv[1:])
                print(open("notes.txt").read().strip())
                print("stdin:", sys.stdin.read().strip())
                sys.exit(3)
                """,
            "util.py": "def double(x):\n    return x * 2\n",
        },
        "x = 1\ny = (x +\nprint(y)\n",
        "(x +",
        "def fail(n):\n    return 10 // n  # here\n\nprint('before')\nfail(0)\n",
        "10 // n",
    ),
    "javascript": Case(
        "main.js",
        {
            "main.js": """\
                const util = require('./util');
                const fs = require('fs');
                console.log(util.double(21), JSON.stringify(process.argv.slice(2)));
                console.log(fs.readFileSync('notes.txt', 'utf8').trim());
                console.log('stdin:', fs.readFileSync(0, 'utf8').trim());
                process.exitCode = 3;
                """,
            "util.js": "exports.double = (x) => x * 2;\n",
        },
        "const a = 1;\nlet b = ;\n",
        "let b",
        "function fail() {\n  throw new Error('boom');  // here\n}\nconsole.log('before');\nfail();\n",
        "new Error",
    ),
    "typescript": Case(
        "main.ts",
        {
            "main.ts": """\
                import { double } from './util';
                import * as fs from 'fs';
                interface Box { n: number }
                const box: Box = { n: 21 };
                console.log(double(box.n), JSON.stringify(process.argv.slice(2)));
                console.log(fs.readFileSync('notes.txt', 'utf8').trim());
                console.log('stdin:', fs.readFileSync(0, 'utf8').trim());
                process.exitCode = 3;
                """,
            "util.ts": "export function double(x: number): number {\n  return x * 2;\n}\n",
        },
        "const a: number = 1;\nlet b: number = ;\n",
        "let b",
        "type N = number;\nfunction fail(n: N): N {\n  throw new TypeError('bad ' + n);  // here\n}\n"
        "console.log('before');\nfail(1);\n",
        "new TypeError",
    ),
    "java": Case(
        "Main.java",
        {
            "Main.java": """\
                import java.nio.file.Files;
                import java.nio.file.Path;
                import java.util.Scanner;

                public class Main {
                    public static void main(String[] args) throws Exception {
                        System.out.println(Util.twice(21) + " [\\"" + String.join("\\",\\"", args) + "\\"]");
                        System.out.println(Files.readString(Path.of("notes.txt")).trim());
                        Scanner in = new Scanner(System.in);
                        System.out.println("stdin: " + (in.hasNextLine() ? in.nextLine() : ""));
                        System.exit(3);
                    }
                }

                class Helper {}
                """,
            "Util.java": "public class Util {\n    static int twice(int x) { return x * 2; }\n}\n",
        },
        "public class Main {\n    public static void main(String[] args) {\n        int x = 1\n    }\n}\n",
        "int x = 1",
        "public class Main {\n    static int fail(int n) {\n        throw new IllegalStateException(\"boom \" + n);"
        "  // here\n    }\n    public static void main(String[] args) {\n        System.out.println(\"before\");\n"
        "        fail(1);\n    }\n}\n",
        "throw new",
    ),
    "cpp": Case(
        "main.cpp",
        {
            "main.cpp": """\
                #include <fstream>
                #include <iostream>
                #include <string>
                #include "util.h"

                int main(int argc, char** argv) {
                    std::ifstream notes("notes.txt");
                    std::string line, input;
                    std::getline(notes, line);
                    std::getline(std::cin, input);
                    std::cout << twice(21) << " [\\"" << argv[1] << "\\",\\"" << argv[2] << "\\"]\\n" << line << "\\n";
                    std::cout << "stdin: " << input << std::endl;
                    return 3;
                }
                """,
            "util.h": "inline int twice(int x) { return x * 2; }\n",
        },
        "#include <iostream>\nint main() { int x = 1; std::cout << (x + ) << std::endl; return 0; }\n",
        "(x + )",
        "#include <iostream>\nint divide(int a, int b) {\n    return a / b;  // here\n}\n"
        "int main(int argc, char**) {\n    std::cout << \"before\" << std::endl;\n    return divide(1, argc - 1);\n}\n",
        "a / b",
    ),
}


@pytest.fixture
def tmp_path(tmp_path: Path) -> Path:
    """A folder the sandbox user (nobody) may enter, as a user's project is: pytest's own is mode 0700."""
    folder = tmp_path / "w"
    folder.mkdir(mode=0o755)
    return folder


def write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")


def snapshot(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def line_of(path: Path, marker: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if marker in line)


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
