"""Where kernels come from: the ``KernelBackend`` seam and the local, sandboxed implementation.

``LocalBackend`` starts each kernel with jupyter_client's ``AsyncKernelManager`` over IPC sockets (no
TCP port, and no ipykernel warning about it), in its own folder ``<base>/<id>/`` holding the connection
file, the sockets, a scratch HOME and the working folder ``work/``, through the sandbox prefix
(``sandbox.py``: bubblewrap as an unprivileged user, seccomp, cgroups, rlimits, an allowlisted
environment). The remote implementation is ``nexus.kernels.gateway_client.GatewayBackend``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import tempfile
import uuid
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any, Protocol

from jupyter_client.manager import AsyncKernelManager

from . import cgroups, sandbox
from .cgroups import CgroupLayout
from .errors import KernelStartError, UnknownLanguageError
from .execution import KernelClientLike, KernelManagerLike
from .languages import LANGUAGES, NexusKernelSpecManager, require, resolve
from .program_run import FileRun, probe, stream_program
from .results import EXIT_KILLED, ExecutionResult, OutputItem
from .sandbox import Isolation, KernelPaths
from .settings import KernelSettings, Limits, OutputLimits

log = logging.getLogger(__name__)

_SIGNAL_LIMITS = {signal.SIGXCPU: "cpu", signal.SIGXFSZ: "file"}


class Kernel(Protocol):
    """A started kernel, as the service holds it (``RunnableKernel`` plus identity and shutdown)."""

    # read-only members: implementations may hold more specific types (AsyncKernelManager, ...)
    @property
    def kernel_id(self) -> str: ...

    @property
    def language(self) -> str: ...

    @property
    def client(self) -> KernelClientLike: ...

    @property
    def manager(self) -> KernelManagerLike: ...

    async def prepare(self) -> None: ...

    async def limit_hit(self) -> str | None: ...

    async def death_reason(self) -> tuple[str, int | None]: ...

    async def recover(self) -> None: ...

    async def shutdown(self) -> None: ...


class KernelBackend(Protocol):
    """Starts kernels for the service; ``check`` raises UnknownLanguageError / ToolchainMissingError."""

    name: str

    def check(self, language: str) -> str:
        """Return the canonical language name, or raise when it cannot run on this backend."""

    async def start(self, language: str, writable: bool = False) -> Kernel:
        """Start a kernel; ``writable``: the workspace is mounted read-write for it (else read-only)."""

    def isolation(self) -> Isolation:
        """Whether this backend's kernels run behind a sandbox boundary (remote ones: the remote's)."""

    async def close(self) -> None: ...


class LocalKernel:
    def __init__(
        self, backend: LocalBackend, language: str, manager: AsyncKernelManager, paths: KernelPaths,
        writable: bool = False,
    ) -> None:
        self.kernel_id = paths.root.name
        self.language = language
        self.manager: Any = manager  # an AsyncKernelManager; its stubs do not match KernelManagerLike exactly
        self.client: Any = None  # made in connect(): a client copies the connection info when created
        self.paths = paths
        self.kernel_dir = paths.root
        self.writable = writable
        self._backend = backend
        self._forks_refused = 0
        self._oom_kills = 0

    @property
    def limits(self) -> Limits:
        return self._backend.limits

    @property
    def pid(self) -> int | None:
        provisioner = self.manager.provisioner
        process = getattr(provisioner, "process", None)
        return process.pid if process is not None else None

    async def connect(self, timeout: float) -> None:
        self.client = self.manager.client()
        self.client.start_channels()
        try:
            await self.client.wait_for_ready(timeout=timeout)
        except RuntimeError as exc:
            tail = self._stderr_tail()
            await self.shutdown()
            raise KernelStartError(f"the {self.language} kernel did not start: {exc}{tail}") from exc

    def _stderr_tail(self) -> str:
        try:
            text = self.paths.log.read_text(errors="replace").strip()
        except OSError:
            return ""
        return "\n" + "\n".join(text.splitlines()[-15:]) if text else ""

    async def prepare(self) -> None:
        pid = self.pid
        if pid is not None and self.limits.cpu_seconds:
            # a few /proc reads (and a pipe round trip with a dropped user): cheaper than a thread hop
            if self._backend.cpu_armer is not None:
                self._backend.cpu_armer.arm(pid, self.limits.cpu_seconds)
            else:
                sandbox.arm_cpu_limit(pid, self.limits.cpu_seconds)
        layout = self._backend.cgroups
        if layout is not None:
            self._forks_refused = cgroups.forks_refused(layout, self.kernel_id)
            self._oom_kills = cgroups.oom_kills(layout, self.kernel_id)

    async def limit_hit(self) -> str | None:
        layout = self._backend.cgroups
        if cgroups.forks_refused(layout, self.kernel_id) > self._forks_refused:
            return f"process limit of {self.limits.processes} exceeded"
        if cgroups.oom_kills(layout, self.kernel_id) > self._oom_kills:
            return f"memory limit of {self.limits.memory_mb} MB exceeded (a process was killed)"
        return None

    async def death_reason(self) -> tuple[str, int | None]:
        """Why the kernel died and the exit code to report: 137 for a limit, 128+N for signal N."""
        process = getattr(self.manager.provisioner, "process", None)
        code = process.poll() if process is not None else None
        if code is None:
            return "the kernel stopped answering", None
        # bubblewrap exits 128+N when the kernel inside was killed by signal N
        signum = -code if code < 0 else (code - 128 if code > 128 and self._backend.bwrap else 0)
        limits = self.limits
        layout = self._backend.cgroups
        # a fork bomb usually exhausts memory too: the process limit is the cause to report
        if cgroups.forks_refused(layout, self.kernel_id) > self._forks_refused:
            return f"process limit of {limits.processes} exceeded", EXIT_KILLED
        if cgroups.oom_kills(layout, self.kernel_id) > self._oom_kills:
            return f"memory limit of {limits.memory_mb} MB exceeded", EXIT_KILLED
        kind = _SIGNAL_LIMITS.get(signal.Signals(signum)) if signum in signal.valid_signals() else None
        if kind == "cpu":
            return f"CPU time limit of {limits.cpu_seconds} s exceeded", EXIT_KILLED
        if kind == "file":
            return f"file size limit of {limits.file_size_mb} MB exceeded", EXIT_KILLED
        if signum in signal.valid_signals():
            name = signal.Signals(signum).name
            if signum == signal.SIGKILL and (layout is None or not layout.has("memory")) and limits.memory_mb:
                return (f"the kernel was killed by {name} (without a memory cgroup here, a memory limit "
                        "cannot be told apart from another kill)"), 128 + signum
            return f"the kernel was killed by signal {name}", 128 + signum
        return f"the kernel process exited with status {code}", None

    async def recover(self) -> None:
        await asyncio.to_thread(sandbox.kill_tree, self.pid, self._backend.cgroups, self.kernel_id)
        await self.manager.restart_kernel(now=True)
        await self.client.wait_for_ready(timeout=self._backend.settings.start_timeout_seconds)

    async def shutdown(self) -> None:
        if self.client is not None:
            self.client.stop_channels()
        pid = self.pid
        try:
            if await self.manager.is_alive():
                await self.manager.shutdown_kernel(now=True)
            else:
                # A kernel that died (or never came up) still holds the manager's zmq context and
                # files; shutdown_kernel is what would have released them.
                await self.manager.cleanup_resources()
        except Exception:  # already gone: nothing left to stop but its processes and folder
            log.debug("shutting down kernel %s", self.kernel_id, exc_info=True)
        await asyncio.to_thread(sandbox.kill_tree, pid, self._backend.cgroups, self.kernel_id)
        await asyncio.to_thread(shutil.rmtree, self.kernel_dir, True)
        await asyncio.to_thread(shutil.rmtree, self.kernel_dir.with_name(self.kernel_id + "-mnt"), True)


class LocalBackend:
    """Starts sandboxed kernels on this machine; one base folder per backend, removed on close."""

    name = "local"

    def __init__(self, settings: KernelSettings | None = None) -> None:
        self.settings = settings or KernelSettings()
        self.limits = self.settings.limits
        self._isolation = sandbox.isolation(self.settings)
        self.bwrap = self._isolation.bwrap if self._isolation.available else None
        self.user = sandbox.sandbox_user(self.settings) if self.bwrap else None
        self.cpu_armer = sandbox.CpuArmer(self.user) if self.user is not None else None
        self.cgroups: CgroupLayout | None = (
            cgroups.find_layout(self.settings.cgroup_root) if self.settings.use_cgroups else None
        )
        if self.cgroups is not None:
            cgroups.remove_stale(self.cgroups)
        elif self.settings.use_cgroups:
            log.warning("no writable cgroup here: kernels get rlimits only (no memory cap on /tmp, no CPU "
                        "share; see docs/kernels.md)")
        self.base = Path(tempfile.mkdtemp(prefix="nexus-k-"))
        os.chmod(self.base, 0o711)  # the kernels' own user must reach its folder; listing stays closed
        self.seccomp_file: Path | None = None
        if self.bwrap:
            from .seccomp import filter_bpf

            self.seccomp_file = self.base / "seccomp.bpf"
            self.seccomp_file.write_bytes(filter_bpf())
            os.chmod(self.seccomp_file, 0o600)
        workspace = self.settings.workspace
        self.workspace = workspace.resolve() if workspace is not None else None
        self._hidden = tuple(sandbox.hidden_folders(self.settings, self.base)) if self.bwrap else ()

    @property
    def hidden(self) -> tuple[str, ...]:
        """Folders kernels and file runs see as empty (homes, Nexus's config and cache, /tmp, ...)."""
        return self._hidden

    def stream_file(
        self, run: FileRun, *, timeout: float, output_limits: OutputLimits
    ) -> AsyncGenerator[OutputItem | ExecutionResult, None]:
        """Run a file as its language's runner would, in the sandbox (``program_run``)."""
        return stream_program(self, run, timeout=timeout, output_limits=output_limits)

    async def probe(self, language: str) -> str | None:
        """None when ``language`` runs inside this backend's sandbox, else what fails there."""
        return await probe(self, language)

    def isolation(self) -> Isolation:
        return self._isolation

    def check(self, language: str) -> str:
        lang = resolve(language)
        if lang is not None:
            return require(lang.name).name
        probe = NexusKernelSpecManager([])
        if probe.has(language):
            return language
        raise UnknownLanguageError(language, list(LANGUAGES))

    async def start(self, language: str, writable: bool = False) -> LocalKernel:
        name = self.check(language)
        lang = resolve(name)
        paths = KernelPaths(self.base / uuid.uuid4().hex[:12])
        paths.make()
        language_env, binds = await asyncio.to_thread(runtime_needs, lang.name if lang else name)
        plan = sandbox.SandboxPlan(
            self.limits,
            headroom_mb=lang.headroom_mb if lang else 0,
            runtime_mb=lang.runtime_mb if lang else 0,
            bwrap=self.bwrap,
            cgroups=self.cgroups,
            seccomp_file=self.seccomp_file,
            user=self.user,
            env=sandbox.kernel_env(paths, self.limits, language_env, self.settings.env_for(name)),
            ro_binds=tuple(sandbox.runtime_paths(binds)),
            hidden=self._hidden,
            cpus=self.limits.cpus,
            cwd_in_workspace=self.settings.cwd_in_workspace,
        )
        if writable and self.user is not None and self.workspace is not None:
            _warn_unwritable(self.workspace, self.user)
        prefix = sandbox.launch_prefix(plan, paths, self.workspace, writable)
        manager = AsyncKernelManager(
            kernel_name=lang.spec_name if lang else name,
            kernel_spec_manager=NexusKernelSpecManager(prefix),
            transport="ipc",
            ip=str(paths.run / "k"),
            connection_file=str(paths.connection_file),
        )
        manager.log = log
        kernel = LocalKernel(self, lang.name if lang else name, manager, paths, writable)
        try:
            # env: jupyter_client would pass the whole service environment; launch.py replaces it anyway
            await manager.start_kernel(cwd=str(paths.work), env=dict(plan.env))
        except Exception as exc:
            await asyncio.to_thread(shutil.rmtree, paths.root, True)
            raise KernelStartError(f"cannot start the {name} kernel: {exc}") from exc
        await kernel.connect(self.settings.start_timeout_seconds)
        return kernel

    async def close(self) -> None:
        if self.cpu_armer is not None:
            self.cpu_armer.close()
        await asyncio.to_thread(shutil.rmtree, self.base, True)

    def describe(self) -> dict[str, Any]:
        return sandbox.describe(self.settings)


def runtime_needs(language: str, kernel: bool = True) -> tuple[dict[str, str], list[str]]:
    """Variables and folders a language's runtime needs inside the sandbox (found here, outside it);
    ``kernel``: for its kernel (the Java kernel also needs the compiled JShell runner), else a file run."""
    env: dict[str, str] = {}
    binds: list[str] = []
    if language in ("javascript", "typescript"):
        node = shutil.which("node")
        if node is not None:
            binds.append(str(Path(os.path.realpath(node)).parents[1]))
    if language == "typescript":
        from .javascript.runtime import find_typescript

        found = find_typescript()
        if found is not None:
            env["NEXUS_TYPESCRIPT"] = str(found)
            binds.append(str(found))
    if language == "java" and kernel:
        from .java.kernel import runner_classes

        try:  # compiled here, outside the sandbox, where the user cache folder is writable
            folder = runner_classes()
        except RuntimeError as exc:  # the kernel reports it to the user on its first cell
            log.warning("%s", exc)
        else:
            env["NEXUS_JAVA_RUNNER"] = str(folder)
            binds.append(str(folder))
    if language == "java":
        java = shutil.which("java")
        if java is not None:
            binds.append(str(Path(os.path.realpath(java)).parents[1]))
    return env, binds


def _warn_unwritable(workspace: Path, user: tuple[int, int]) -> None:
    info = workspace.stat()
    if info.st_uid != user[0] and not (info.st_mode & 0o002) and not (info.st_gid == user[1] and info.st_mode & 0o020):
        log.warning("the workspace %s is mounted read-write, but kernels run as uid %d, which cannot write "
                    "it: chown it, or set kernels.sandbox_uid to its owner (docs/kernels.md)", workspace, user[0])
