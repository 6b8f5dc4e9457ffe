"""Where kernels come from: the ``KernelBackend`` seam and the local, sandboxed implementation.

``LocalBackend`` starts each kernel with jupyter_client's ``AsyncKernelManager`` over IPC sockets (no
TCP port, and no ipykernel warning about it), in its own folder ``<base>/<id>/`` holding the connection
file, the sockets and the working folder ``work/``, through the sandbox prefix (rlimits, pids cgroup,
bubblewrap). The remote implementation is ``nexus.kernels.gateway_client.GatewayBackend``.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import signal
import tempfile
import uuid
from pathlib import Path
from typing import Any, Protocol

from jupyter_client.manager import AsyncKernelManager

from . import sandbox
from .errors import KernelStartError, UnknownLanguageError
from .execution import KernelClientLike, KernelManagerLike
from .languages import LANGUAGES, NexusKernelSpecManager, require, resolve
from .settings import KernelSettings, Limits

log = logging.getLogger(__name__)

_SIGNAL_LIMITS = {signal.SIGXCPU: "cpu", signal.SIGXFSZ: "file", signal.SIGKILL: "kill"}


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

    async def death_reason(self) -> tuple[str, bool]: ...

    async def recover(self) -> None: ...

    async def shutdown(self) -> None: ...


class KernelBackend(Protocol):
    """Starts kernels for the service; ``check`` raises UnknownLanguageError / ToolchainMissingError."""

    name: str

    def check(self, language: str) -> str:
        """Return the canonical language name, or raise when it cannot run on this backend."""

    async def start(self, language: str) -> Kernel: ...

    async def close(self) -> None: ...


class LocalKernel:
    def __init__(
        self, backend: LocalBackend, language: str, manager: AsyncKernelManager, kernel_dir: Path
    ) -> None:
        self.kernel_id = kernel_dir.name
        self.language = language
        self.manager: Any = manager  # an AsyncKernelManager; its stubs do not match KernelManagerLike exactly
        self.client: Any = None  # made in connect(): a client copies the connection info when created
        self.kernel_dir = kernel_dir
        self._backend = backend
        self._forks_refused = 0

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
        log_file = self.kernel_dir / "kernel.log"
        try:
            text = log_file.read_text(errors="replace").strip()
        except OSError:
            return ""
        return "\n" + "\n".join(text.splitlines()[-15:]) if text else ""

    async def prepare(self) -> None:
        pid = self.pid
        if pid is not None and self.limits.cpu_seconds:
            sandbox.arm_cpu_limit(
                pid, self.limits.cpu_seconds
            )  # a few /proc reads: cheaper than a thread hop
        self._forks_refused = sandbox.pids_limit_hit(self._backend.cgroup_root, self.kernel_dir)

    async def limit_hit(self) -> str | None:
        refused = sandbox.pids_limit_hit(self._backend.cgroup_root, self.kernel_dir)
        if refused > self._forks_refused:
            return f"process limit of {self.limits.processes} exceeded"
        return None

    async def death_reason(self) -> tuple[str, bool]:
        process = getattr(self.manager.provisioner, "process", None)
        code = process.poll() if process is not None else None
        if code is None:
            return "the kernel stopped answering", False
        signum = -code if code < 0 else (code - 128 if code > 128 and self._backend.bwrap else 0)
        limits = self.limits
        kind = _SIGNAL_LIMITS.get(signal.Signals(signum)) if signum in signal.valid_signals() else None
        if kind == "cpu":
            return f"CPU time limit of {limits.cpu_seconds} s exceeded", True
        if kind == "file":
            return f"file size limit of {limits.file_size_mb} MB exceeded", True
        if kind == "kill":
            return "the kernel was killed (SIGKILL), possibly for using too much memory", True
        if signum:
            return f"the kernel died with signal {signal.Signals(signum).name}", False
        return f"the kernel process exited with status {code}", False

    async def recover(self) -> None:
        await asyncio.to_thread(sandbox.kill_tree, self.pid, self._backend.cgroup_root, self.kernel_dir)
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
        await asyncio.to_thread(sandbox.kill_tree, pid, self._backend.cgroup_root, self.kernel_dir)
        await asyncio.to_thread(shutil.rmtree, self.kernel_dir, True)


class LocalBackend:
    """Starts sandboxed kernels on this machine; one base folder per backend, removed on close."""

    name = "local"

    def __init__(self, settings: KernelSettings | None = None) -> None:
        self.settings = settings or KernelSettings()
        self.limits = self.settings.limits
        self.bwrap = sandbox.find_bwrap(self.settings.use_bwrap)
        self.cgroup_root = sandbox.find_cgroup_root() if self.limits.processes else None
        if self.cgroup_root is not None:
            sandbox.remove_stale_cgroups(self.cgroup_root)
        self.base = Path(tempfile.mkdtemp(prefix="nexus-k-"))
        workspace = self.settings.workspace
        self.workspace = workspace.resolve() if workspace is not None else None

    def check(self, language: str) -> str:
        lang = resolve(language)
        if lang is not None:
            return require(lang.name).name
        probe = NexusKernelSpecManager([])
        if probe.has(language):
            return language
        raise UnknownLanguageError(language, list(LANGUAGES))

    async def start(self, language: str) -> LocalKernel:
        name = self.check(language)
        lang = resolve(name)
        kernel_dir = self.base / uuid.uuid4().hex[:12]
        (kernel_dir / "work").mkdir(parents=True)
        (kernel_dir / "run").mkdir()
        if lang is not None and lang.name == "java":
            await asyncio.to_thread(_compile_java_runner)
        plan = sandbox.SandboxPlan(self.limits, lang.headroom_mb if lang else 0, self.bwrap, self.cgroup_root)
        prefix = sandbox.launch_prefix(plan, kernel_dir, self.workspace)
        manager = AsyncKernelManager(
            kernel_name=lang.spec_name if lang else name,
            kernel_spec_manager=NexusKernelSpecManager(prefix),
            transport="ipc",
            ip=str(kernel_dir / "run" / "k"),
            connection_file=str(kernel_dir / "run" / "kernel.json"),
        )
        manager.log = log
        kernel = LocalKernel(self, lang.name if lang else name, manager, kernel_dir)
        try:
            await manager.start_kernel(cwd=str(kernel_dir / "work"))
        except Exception as exc:
            await asyncio.to_thread(shutil.rmtree, kernel_dir, True)
            raise KernelStartError(f"cannot start the {name} kernel: {exc}") from exc
        await kernel.connect(self.settings.start_timeout_seconds)
        return kernel

    async def close(self) -> None:
        await asyncio.to_thread(shutil.rmtree, self.base, True)

    def describe(self) -> dict[str, Any]:
        return sandbox.describe(self.settings.use_bwrap)


def _compile_java_runner() -> None:
    """Compile the JShell runner here, outside the sandbox, where the user cache folder is writable."""
    from .java.kernel import runner_classes

    try:
        runner_classes()
    except RuntimeError as exc:  # the kernel reports it to the user on its first cell
        log.warning("%s", exc)
