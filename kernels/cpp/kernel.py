"""The C++ kernel: each cell is compiled with g++ into a program (declarations of earlier cells kept,
see ``cells``) and run; compiler errors come back as an ``error`` output in g++'s own words."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
from pathlib import Path
from typing import Any

from ..wrapper import WrapperKernel, exit_description, kernel_dir, kill_group, limit_error_for, spawn
from .cells import Program, split

CXXFLAGS = ("-std=gnu++20", "-O1", "-pipe", "-fdiagnostics-color=never", "-fmax-errors=20", "-w")
_ERROR_LINE = re.compile(r"^(?P<where>[^:\n]+:\d+:\d+): (?:fatal )?error: (?P<message>.*)$", re.MULTILINE)


class CppKernel(WrapperKernel):
    implementation = "nexus-cpp"
    language = "c++"
    banner = "Nexus C++ kernel (g++)"
    language_info: dict[str, object] = {
        "name": "c++",
        "mimetype": "text/x-c++src",
        "file_extension": ".cpp",
        "codemirror_mode": "text/x-c++src",
        "pygments_lexer": "cpp",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.program = Program()
        self.cells = 0
        self.build = Path(kernel_dir()) / "cpp-build"
        self.child: asyncio.subprocess.Process | None = None

    def interrupt_targets(self) -> list[int]:
        return [self.child.pid] if self.child is not None and self.child.returncode is None else []

    async def do_execute(
        self,
        code: str,
        silent: bool,
        store_history: bool = True,
        user_expressions: Any = None,
        allow_stdin: bool = False,
        **_: Any,
    ) -> dict[str, Any]:
        compiler = shutil.which("g++")
        if compiler is None:
            return self.error(
                "RuntimeUnavailable", "g++ not found on PATH; install g++ (apt-get install g++)"
            )
        if not code.strip():
            return self.ok()
        self.cells += 1
        label = f"cell[{self.cells}]"
        cell = split(code, label)
        self.build.mkdir(parents=True, exist_ok=True)
        source = self.build / f"cell{self.cells}.cpp"
        binary = self.build / f"cell{self.cells}"
        source.write_text(self.program.source(cell), encoding="utf-8")
        # LC_ALL=C: plain ASCII quotes in diagnostics, the same on every machine
        status, _tail, compiler_output = await self._run(
            [compiler, *CXXFLAGS, "-o", str(binary), str(source)],
            stream=False,
            env={**os.environ, "LC_ALL": "C"},
        )
        if self.interrupted:
            return self.error("KeyboardInterrupt", "compilation interrupted")
        if status != 0:
            return self._compile_error(compiler_output, status)
        self.program.commit(cell)
        status, tail, _streamed = await self._run([str(binary)], stream=True)
        for path in (source, binary):
            path.unlink(missing_ok=True)
        if status == 0:
            return self.ok()
        if self.interrupted and status == -signal.SIGINT:
            return self.error("KeyboardInterrupt", "the program was interrupted")
        limit = limit_error_for(status, tail, ())
        if limit is not None:
            return self.error(*limit)
        what = (
            "Segmentation fault" if status == -signal.SIGSEGV else f"the program {exit_description(status)}"
        )
        return self.error("ProgramFailed", what)

    def _compile_error(self, diagnostics: str, status: int | None) -> dict[str, Any]:
        if status is not None and status < 0:
            limit = limit_error_for(status, diagnostics, ("out of memory", "virtual memory exhausted"))
            if limit is not None:
                return self.error(*limit)
        first = _ERROR_LINE.search(diagnostics)
        evalue = f"{first['where']}: {first['message']}" if first else "compilation failed"
        lines = [line for line in diagnostics.splitlines() if line.strip()]
        return self.error("CompileError", evalue, lines or [evalue])

    async def _run(
        self, argv: list[str], stream: bool, env: dict[str, str] | None = None
    ) -> tuple[int | None, str, str]:
        """Run a child to completion: (status, stderr tail, all stderr when not streamed)."""
        process = self.child = await spawn(argv, stdin=False, cwd=os.getcwd(), env=env)
        collected: list[str] = []
        tail = ""

        async def pump(pipe: asyncio.StreamReader | None, name: str) -> None:
            nonlocal tail
            assert pipe is not None
            while chunk := await pipe.read(65536):
                text = chunk.decode("utf-8", "replace")
                if name == "stderr":
                    tail = (tail + text)[-8192:]
                if stream:
                    self.stream(name, text)
                else:
                    collected.append(text)

        try:
            await asyncio.gather(pump(process.stdout, "stdout"), pump(process.stderr, "stderr"))
            status = await process.wait()
        finally:
            kill_group(process)
            self.child = None
        return status, tail, "".join(collected)

    async def stop_children(self) -> None:
        kill_group(self.child)
