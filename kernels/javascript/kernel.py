"""The JavaScript kernel: cells run in a long-lived Node.js process (``runner.js``), state kept.

The TypeScript kernel is this class with ``runner_language = "typescript"``: the runner transpiles each
cell with the ``typescript`` package before running it the same way.
"""

from __future__ import annotations

import os

from ..wrapper import RunnerKernel, memory_mb
from .runtime import find_typescript, node_argv


class JavaScriptKernel(RunnerKernel):
    implementation = "nexus-javascript"
    language = "javascript"
    banner = "Nexus JavaScript kernel (Node.js)"
    runtime_name = "Node.js"
    runner_language = "javascript"
    heap_words = ("heap out of memory", "Reached heap limit", "Allocation failed")
    language_info: dict[str, object] = {
        "name": "javascript",
        "mimetype": "application/javascript",
        "file_extension": ".js",
        "codemirror_mode": "javascript",
        "pygments_lexer": "javascript",
    }

    def runner_argv(self) -> list[str]:
        return node_argv(self.runner_language, memory_mb())

    def runner_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.runner_language == "typescript":
            found = find_typescript()
            if found is not None:
                env["NEXUS_TYPESCRIPT"] = str(found)
        return env

    def unavailable(self) -> str | None:
        if self.runner_language == "typescript" and find_typescript() is None:
            return "the typescript npm package is missing; run `nexus kernels install` (it runs npm install)"
        return None
