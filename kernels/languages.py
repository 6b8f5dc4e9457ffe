"""The built-in languages: how each kernel starts, what it needs, and its kernelspec.

Python runs on ipykernel; the others are wrapper kernels in this package (one folder each) that
``nexus kernels install`` writes as kernelspecs named ``nexus-<language>``. The service does not need
that install: it builds the same specs in memory (``NexusKernelSpecManager``), and falls back to any
installed kernelspec for names it does not know (``--lang ir`` runs an installed IRkernel).

Which kernel runs a file is the engine's language registry's to say (each ``nexus.engine.languages``
module names its kernel: C runs in the C++ one); this module holds how each kernel starts.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager, NoSuchKernel

from nexus.engine import languages as registry

from .errors import ToolchainMissingError, UnknownLanguageError

PACKAGE = Path(__file__).parent


def _runs(kernel: str, *extra: str) -> tuple[str, ...]:
    """The file suffixes this kernel runs: those of every registered language that names it as its
    kernel (nexus.engine.languages), and any the registry does not index (jshell's ``.jsh``)."""
    return (*(s for lang in registry.LANGUAGES if lang.kernel == kernel for s in lang.suffixes), *extra)


def _need(*tools: str, hint: str) -> Callable[[], str | None]:
    def check() -> str | None:
        missing = [tool for tool in tools if shutil.which(tool) is None]
        return f"{', '.join(missing)} not found on PATH; {hint}" if missing else None

    return check


def _typescript_check() -> str | None:
    if shutil.which("node") is None:
        return "node not found on PATH; install Node.js 18+ (apt-get install nodejs)"
    from .javascript.runtime import find_typescript

    if find_typescript() is None:
        return "the typescript npm package is missing; run `nexus kernels install` (it runs npm install)"
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class Language:
    name: str
    display_name: str
    module: str | None  # wrapper kernel module run with -m; None: ipykernel
    extensions: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    headroom_mb: int = 0  # address space beyond the heap limit that the runtime reserves
    runtime_mb: int = 0  # memory the runtime uses beyond its heap limit (the memory cgroup allows it)
    check: Callable[[], str | None] = lambda: None
    codemirror_mode: str = ""
    pygments_lexer: str = ""

    @property
    def spec_name(self) -> str:
        return f"nexus-{self.name}"

    def argv(self) -> list[str]:
        if self.module is None:
            # frozen modules off: ipykernel's debugger (debugpy) misses breakpoints with them
            return [
                sys.executable,
                "-Xfrozen_modules=off",
                "-m",
                "ipykernel_launcher",
                "-f",
                "{connection_file}",
                "--HistoryManager.enabled=False",
            ]
        return [sys.executable, "-m", self.module, "-f", "{connection_file}"]

    def missing(self) -> str | None:
        """What to install before this language can run, or None when it is ready."""
        return self.check()

    def spec_dict(self) -> dict[str, Any]:
        return {
            "argv": self.argv(),
            "display_name": self.display_name,
            "language": self.name,
            "interrupt_mode": "message",
            "env": {},
            "metadata": {"debugger": self.module is None, "nexus": {"language": self.name}},
        }

    def spec(self, prefix: list[str] | None = None) -> KernelSpec:
        data = self.spec_dict()
        data["argv"] = (prefix or []) + data["argv"]
        return KernelSpec(resource_dir=str(PACKAGE), **data)


LANGUAGES: dict[str, Language] = {
    lang.name: lang
    for lang in (
        Language("python", "Python 3 (Nexus)", None, _runs("python"), ("py", "python3", "ipython")),
        Language(
            "javascript",
            "JavaScript (Node.js, Nexus)",
            "nexus.kernels.javascript",
            _runs("javascript"),
            ("js", "node", "nodejs"),
            headroom_mb=2048,
            runtime_mb=384,
            check=_need("node", hint="install Node.js 18+ (apt-get install nodejs)"),
        ),
        Language(
            "typescript",
            "TypeScript (Node.js, Nexus)",
            "nexus.kernels.typescript",
            _runs("typescript"),
            ("ts",),
            headroom_mb=2048,
            runtime_mb=384,
            check=_typescript_check,
        ),
        Language(
            "java",
            "Java (jshell, Nexus)",
            "nexus.kernels.java",
            _runs("java", ".jsh"),
            ("jshell",),
            headroom_mb=2048,
            runtime_mb=384,
            check=_need("java", "javac", hint="install a JDK 11+ (apt-get install default-jdk)"),
        ),
        Language(
            "cpp",
            "C++ (g++, Nexus)",
            "nexus.kernels.cpp",
            _runs("cpp"),
            ("c++", "cxx", "g++"),
            headroom_mb=0,
            check=_need("g++", hint="install g++ (apt-get install g++)"),
        ),
    )
}


def resolve(name: str) -> Language | None:
    """The built-in language called ``name`` or one of its aliases (case-insensitive)."""
    key = name.strip().lower()
    key = key.removeprefix("nexus-")
    for lang in LANGUAGES.values():
        if key == lang.name or key in lang.aliases:
            return lang
    return None


def language_for_path(path: Path) -> Language | None:
    suffix = path.suffix.lower()
    return next((lang for lang in LANGUAGES.values() if suffix in lang.extensions), None)


def require(name: str) -> Language:
    """The built-in language ``name``, ready to run; raises UnknownLanguageError / ToolchainMissingError."""
    lang = resolve(name)
    if lang is None:
        raise UnknownLanguageError(name, list(LANGUAGES))
    missing = lang.missing()
    if missing:
        raise ToolchainMissingError(lang.name, missing)
    return lang


class NexusKernelSpecManager(KernelSpecManager):
    """Serves the built-in specs (with the sandbox prefix) and falls back to installed kernelspecs."""

    def __init__(self, prefix: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._prefix = prefix

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        lang = resolve(kernel_name)
        if lang is not None:
            return lang.spec(self._prefix)
        spec = super().get_kernel_spec(kernel_name)
        spec.argv = self._prefix + list(spec.argv)
        return spec

    def has(self, kernel_name: str) -> bool:
        if resolve(kernel_name) is not None:
            return True
        try:
            super().get_kernel_spec(kernel_name)
        except NoSuchKernel:
            return False
        return True
