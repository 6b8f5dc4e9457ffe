"""The Java kernel: cells are evaluated by ``NexusJShell`` (the JShell API) in one long-lived JVM.

The runner is compiled with ``javac`` once per source version into the user cache folder (``nexus
kernels install`` does it ahead of time); when that folder is not writable (inside bubblewrap it is
read-only), into the kernel's own folder.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from nexus.engine.config import user_cache_dir

from ..wrapper import RunnerKernel, kernel_dir, memory_mb

SOURCE = Path(__file__).resolve().with_name("NexusJShell.java")


def runner_classes(compile_into: Path | None = None) -> Path:
    """The folder holding the compiled runner, compiling it first when needed; raises RuntimeError."""
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:12]
    candidates = (
        [compile_into]
        if compile_into
        else [user_cache_dir() / "kernels" / f"java-{digest}", Path(kernel_dir()) / f"java-{digest}"]
    )
    prepared = os.environ.get("NEXUS_JAVA_RUNNER")  # compiled by the service, outside the sandbox
    if prepared and not compile_into:
        candidates.insert(0, Path(prepared))
    for folder in candidates:
        if (folder / "NexusJShell.class").is_file():
            return folder
    javac = shutil.which("javac")
    if javac is None:
        raise RuntimeError("javac not found on PATH; install a JDK 11+ (apt-get install default-jdk)")
    errors = []
    for folder in candidates:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            # a small heap: inside the kernel's address-space limit javac's default heap cannot be reserved
            done = subprocess.run(
                [
                    javac,
                    "-J-Xmx256m",
                    "-J-XX:CompressedClassSpaceSize=64m",
                    "-J-XX:ReservedCodeCacheSize=64m",
                    "-J-XX:+UseSerialGC",
                    "-nowarn",
                    "-XDignore.symbol.file",
                    "-d",
                    str(folder),
                    str(SOURCE),
                ],
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            errors.append(str(exc))
            continue
        if done.returncode == 0:
            return folder
        errors.append((done.stderr + done.stdout).strip()[-1500:])
    raise RuntimeError("cannot compile the JShell runner: " + "; ".join(errors))


def java_argv(classes: Path, heap_mb: int) -> list[str]:
    java = shutil.which("java") or "java"
    argv = [
        java,
        "-XX:+UseSerialGC",
        "-Xshare:auto",
        "-XX:CompressedClassSpaceSize=128m",
        "-XX:ReservedCodeCacheSize=128m",
        "-XX:-UsePerfData",
    ]
    if heap_mb:
        argv.append(f"-Xmx{heap_mb}m")
    return [*argv, "-cp", str(classes), "NexusJShell"]


class JavaKernel(RunnerKernel):
    implementation = "nexus-java"
    language = "java"
    banner = "Nexus Java kernel (JShell)"
    runtime_name = "the JVM"
    heap_words = ("java.lang.OutOfMemoryError", "Java heap space")
    language_info: dict[str, object] = {
        "name": "java",
        "mimetype": "text/x-java",
        "file_extension": ".java",
        "codemirror_mode": "text/x-java",
        "pygments_lexer": "java",
    }

    def unavailable(self) -> str | None:
        missing = [tool for tool in ("java", "javac") if shutil.which(tool) is None]
        if missing:
            return f"{', '.join(missing)} not found on PATH; install a JDK 11+ (apt-get install default-jdk)"
        return None

    def runner_argv(self) -> list[str]:
        return java_argv(runner_classes(), memory_mb())

    def runner_env(self) -> dict[str, str]:
        return dict(os.environ)

    def request(self, request_id: int, code: str) -> str:
        return f"run {request_id} {base64.b64encode(code.encode('utf-8')).decode('ascii')}"
