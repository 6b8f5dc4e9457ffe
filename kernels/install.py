"""``nexus kernels install``: kernelspecs for Jupyter front ends, and the toolchain pieces kernels need.

Writes one kernelspec per language (``nexus-python``, ``nexus-javascript``, ...) with ``jupyter_client``'s
``KernelSpecManager`` (user folder by default, ``--prefix`` for a virtualenv), installs the TypeScript
compiler with npm into ``<user data dir>/node/node_modules``, and compiles the Java runner ahead of time.
The execution service does not depend on any of this having run: it builds the same specs in memory.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager

from .errors import ToolchainMissingError
from .javascript.runtime import TYPESCRIPT_PROJECT, find_typescript, node_modules_dir
from .languages import LANGUAGES, Language

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class InstallStep:
    what: str
    ok: bool
    detail: str


def install_kernelspec(lang: Language, user: bool = True, prefix: str | None = None) -> str:
    """Write ``lang``'s kernelspec; returns the folder it was installed in."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / lang.spec_name
        folder.mkdir()
        (folder / "kernel.json").write_text(json.dumps(lang.spec_dict(), indent=2), encoding="utf-8")
        return str(
            KernelSpecManager().install_kernel_spec(
                str(folder), lang.spec_name, user=user and prefix is None, prefix=prefix, replace=True
            )
        )


def install_typescript(target: Path | None = None) -> str:
    """``npm install`` the pinned typescript package; raises ToolchainMissingError without npm."""
    npm = shutil.which("npm")
    if npm is None:
        raise ToolchainMissingError("typescript", "npm not found on PATH; install Node.js 18+ with npm")
    root = (target or node_modules_dir()).parent
    root.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        source = TYPESCRIPT_PROJECT / name
        if source.is_file():
            shutil.copyfile(source, root / name)
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--omit=dev"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if done.returncode != 0:
        raise ToolchainMissingError(
            "typescript", f"npm install failed in {root}: {done.stderr.strip()[-800:]}"
        )
    return str(root / "node_modules" / "typescript")


def install_all(user: bool = True, prefix: str | None = None, npm: bool = True) -> list[InstallStep]:
    """Everything ``nexus kernels install`` does; each step reports instead of stopping the others."""
    steps: list[InstallStep] = []
    if npm and shutil.which("node"):
        try:
            steps.append(InstallStep("typescript (npm)", True, install_typescript()))
        except ToolchainMissingError as exc:
            steps.append(InstallStep("typescript (npm)", False, str(exc)))
    elif npm:
        found = find_typescript()
        steps.append(
            InstallStep(
                "typescript (npm)",
                found is not None,
                str(found) if found else "skipped: node is not installed",
            )
        )
    if shutil.which("javac"):
        from .java.kernel import runner_classes

        try:
            steps.append(InstallStep("java runner", True, str(runner_classes())))
        except RuntimeError as exc:
            steps.append(InstallStep("java runner", False, str(exc)))
    for lang in LANGUAGES.values():
        missing = lang.missing()
        where = install_kernelspec(lang, user=user, prefix=prefix)
        steps.append(
            InstallStep(
                f"kernelspec {lang.spec_name}",
                missing is None,
                where if missing is None else f"{where} (not ready: {missing})",
            )
        )
    return steps
