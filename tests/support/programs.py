"""Programs per language for the file-run tests (kernels, gateway, Jupyter extension): each has a main
file importing a sibling and reading ``notes.txt`` by a relative path, reading stdin, printing its
arguments and exiting with status 3; a syntax error and a runtime error, with the text on the line the
error must be reported at."""

from __future__ import annotations

import dataclasses
import shutil
import textwrap
from pathlib import Path

import pytest

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


def write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")


def snapshot(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def line_of(path: Path, marker: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if marker in line)


def need_tools(language: str) -> None:
    missing = [t for t in TOOLS[language] if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed on this machine")


def project(folder: Path, language: str) -> Path:
    """Write ``language``'s program, its sibling and ``notes.txt`` into ``folder``; returns the main file."""
    case = CASES[language]
    write(folder, {**case.files, "notes.txt": "notes next to the program\n"})
    return folder / case.main


def first_line(language: str, args: tuple[str, ...] = ("one", "two words")) -> str:
    """What the program prints first for ``args``."""
    if language == "python":
        return f"42 {list(args)!r}"
    return "42 [" + ",".join(f'"{a}"' for a in args) + "]"
