"""The TypeScript kernel: each cell is transpiled by ``typescript.transpileModule`` (types stripped, no
type checking) and run in the same long-lived Node.js process as the JavaScript kernel."""

from __future__ import annotations

from ..javascript.kernel import JavaScriptKernel


class TypeScriptKernel(JavaScriptKernel):
    implementation = "nexus-typescript"
    language = "typescript"
    banner = "Nexus TypeScript kernel (Node.js, typescript transpileModule)"
    runner_language = "typescript"
    language_info: dict[str, object] = {
        "name": "typescript",
        "mimetype": "text/typescript",
        "file_extension": ".ts",
        "codemirror_mode": "text/typescript",
        "pygments_lexer": "typescript",
    }
