"""The JavaScript kernel: cells run in a long-lived Node.js process (``runner.js``), state kept.

The TypeScript kernel is this class with ``runner_language = "typescript"``: the runner transpiles each
cell with the ``typescript`` package before running it the same way.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from ..wrapper import RunnerProcess, WrapperKernel, exit_description, limit_error_for, memory_mb
from .runtime import find_typescript, node_argv

log = logging.getLogger(__name__)

HEAP_WORDS = ("heap out of memory", "Reached heap limit", "Allocation failed")


class JavaScriptKernel(WrapperKernel):
    implementation = "nexus-javascript"
    language = "javascript"
    banner = "Nexus JavaScript kernel (Node.js)"
    runner_language = "javascript"
    language_info = {"name": "javascript", "mimetype": "application/javascript", "file_extension": ".js",
                     "codemirror_mode": "javascript", "pygments_lexer": "javascript"}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runner: RunnerProcess | None = None
        self.versions: dict[str, Any] = {}
        self._next_id = 0

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.runner_language == "typescript":
            found = find_typescript()
            if found is not None:
                env["NEXUS_TYPESCRIPT"] = str(found)
        return env

    async def ensure_runner(self) -> str | None:
        """Start Node.js when it is not running; returns an error message when it cannot start."""
        if self.runner is not None and self.runner.alive:
            return None
        if self.runner_language == "typescript" and find_typescript() is None:
            return "the typescript npm package is missing; run `nexus kernels install` (it runs npm install)"
        self.runner = RunnerProcess(node_argv(self.runner_language, memory_mb()), self.stream,
                                    env=self._env(), cwd=os.getcwd())
        try:
            await self.runner.start()
        except (OSError, RuntimeError, TimeoutError) as exc:
            self.runner = None
            return f"Node.js could not start: {exc}"
        return None

    async def kernel_info_request(self, stream: Any, ident: Any, parent: Any) -> None:
        # the service waits for this reply: answering after Node is up makes a pooled kernel truly warm
        await self.ensure_runner()
        await super().kernel_info_request(stream, ident, parent)

    def interrupt_targets(self) -> list[int]:
        if self.runner is not None and self.runner.process is not None and self.runner.alive:
            return [self.runner.process.pid]
        return []

    async def do_execute(self, code: str, silent: bool, store_history: bool = True,
                         user_expressions: Any = None, allow_stdin: bool = False, **_: Any) -> dict[str, Any]:
        problem = await self.ensure_runner()
        if problem is not None:
            return self.error("RuntimeUnavailable", problem)
        assert self.runner is not None
        self._next_id += 1
        self.runner.send(json.dumps({"id": self._next_id, "code": code}))
        reply = self.ok()
        async for event in self.runner.events():
            if event is None:
                return await self._runner_died()
            kind = event.get("type")
            if kind == "stream":
                self.stream(event.get("name", "stdout"), event.get("text", ""))
            elif kind == "display":
                self.display(event.get("data", {}))
            elif kind == "result":
                self.display(event.get("data", {}), result=True)
            elif kind == "error":
                reply = self.error(event.get("ename", "Error"), event.get("evalue", ""), event.get("traceback", []))
            elif kind == "async_error":
                self.stream("stderr", "\n".join(event.get("traceback", [])) + "\n")
        return reply

    async def _runner_died(self) -> dict[str, Any]:
        assert self.runner is not None
        code = await self.runner.wait_exit()
        tail = self.runner.stderr_tail
        self.runner = None
        limit = limit_error_for(code, tail, HEAP_WORDS)
        if limit is not None:
            ename, evalue = limit
            return self.error(ename, f"{evalue}; Node.js was restarted and the kernel's state was lost")
        return self.error("RuntimeDied", f"Node.js {exit_description(code)}; it will be restarted on the next "
                                         "cell and the kernel's state was lost")

    async def stop_children(self) -> None:
        if self.runner is not None:
            await self.runner.stop()


