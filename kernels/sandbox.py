"""How a kernel process is confined: resource limits, a pids cgroup, and bubblewrap when present.

Layers, each used when the machine allows it (``describe()`` says which are active):

- rlimits (always, on POSIX): address space, file size, CPU time and, for non-root users, processes.
  The kernel starts through ``launch.py``, which sets them and ``exec``s the kernel.
- a pids cgroup (v2 delegated subtree or v1 ``pids`` hierarchy, when writable): caps the number of
  processes even for root, whom RLIMIT_NPROC does not bind, and lets the service kill a fork bomb whole.
- bubblewrap (``bwrap``): no network, a read-only view of the system, a private /tmp, and write access
  only to the kernel's own folder and the workspace.

CPU time is per execution: before each run the service raises every process's soft RLIMIT_CPU to
"used so far + the limit" (``arm_cpu_limit``), so a long-lived session is not killed by its history.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import resource
import shutil
import signal
import sys
import time
from pathlib import Path

import psutil

from .settings import Limits

log = logging.getLogger(__name__)

LAUNCHER = Path(__file__).with_name("launch.py")
MB = 1024 * 1024
_CGROUP_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup"))


@dataclasses.dataclass(frozen=True, slots=True)
class SandboxPlan:
    """What one kernel start applies; ``headroom_mb``: address space a runtime needs beyond its heap."""

    limits: Limits
    headroom_mb: int = 0
    bwrap: str | None = None
    cgroup_root: Path | None = None


def find_bwrap(enabled: bool = True) -> str | None:
    """The bwrap executable when it is installed and can create namespaces here, else None."""
    if not enabled:
        return None
    path = shutil.which("bwrap")
    if path is None:
        return None
    return path if _bwrap_works(path) else None


_BWRAP_OK: dict[str, bool] = {}


def _bwrap_works(path: str) -> bool:
    if path not in _BWRAP_OK:
        import subprocess

        try:
            done = subprocess.run(
                [path, "--ro-bind", "/", "/", "--dev", "/dev", "--unshare-net", "true"],
                capture_output=True,
                check=False,
                timeout=10,
            )
            _BWRAP_OK[path] = done.returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            _BWRAP_OK[path] = False
        if not _BWRAP_OK[path]:
            log.warning("bwrap at %s cannot create namespaces here; kernels run with rlimits only", path)
    return _BWRAP_OK[path]


def find_cgroup_root() -> Path | None:
    """A writable folder where a per-kernel pids cgroup can be made, or None."""
    override = os.environ.get("NEXUS_KERNELS_CGROUP_ROOT")
    candidates = [Path(override)] if override else []
    own = _own_cgroup_v2()
    if own is not None:
        candidates.append(own)
    candidates += list(_CGROUP_ROOTS)
    for root in candidates:
        if not (root / "cgroup.procs").exists() or not os.access(root, os.W_OK):
            continue
        v1 = (root / "pids.max").exists() or root.name == "pids"
        v2 = (root / "cgroup.subtree_control").exists()
        if v2 and not v1:
            controllers = (root / "cgroup.subtree_control").read_text().split()
            if "pids" not in controllers:
                continue
        if v1 or v2:
            return root
    return None


def _own_cgroup_v2() -> Path | None:
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            if line.startswith("0::"):
                path = line[3:].strip()
                return Path("/sys/fs/cgroup") / path.lstrip("/") if path not in ("", "/") else None
    except OSError:
        return None
    return None


def remove_stale_cgroups(root: Path, older_than: float = 300.0) -> None:
    """Remove empty ``nexus-*`` cgroups left by services that were killed before cleaning up."""
    now = time.time()
    for cgroup in root.glob("nexus-*"):
        try:
            if now - cgroup.stat().st_mtime > older_than and not (cgroup / "cgroup.procs").read_text().strip():
                cgroup.rmdir()
        except OSError:
            continue  # in use, or removed by someone else meanwhile


def cgroup_for(root: Path, kernel_dir: Path) -> Path:
    return root / f"nexus-{kernel_dir.name}"


def launch_prefix(
    plan: SandboxPlan, kernel_dir: Path, workspace: Path | None, extra_env: dict[str, str] | None = None
) -> list[str]:
    """The argv that goes before a kernel's own argv (launcher, then bwrap when available)."""
    limits = plan.limits
    rlimits: dict[str, list[int | None]] = {}
    if limits.memory_mb:
        total = (limits.memory_mb + plan.headroom_mb) * MB
        rlimits["RLIMIT_AS"] = [total, total]
    if limits.file_size_mb:
        rlimits["RLIMIT_FSIZE"] = [limits.file_size_mb * MB, limits.file_size_mb * MB]
    if limits.cpu_seconds:
        # hard stays where it is: arm_cpu_limit raises the soft limit before each execution
        rlimits["RLIMIT_CPU"] = [limits.cpu_seconds, None]
    cgroup = None
    if limits.processes and plan.cgroup_root is not None:
        cgroup = cgroup_for(plan.cgroup_root, kernel_dir)  # made by launch.py, at every (re)start
    elif limits.processes and os.geteuid() != 0:
        # RLIMIT_NPROC counts every process of the user, so allow what the user already runs
        mine = sum(
            1 for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real == os.getuid()
        )
        rlimits["RLIMIT_NPROC"] = [mine + limits.processes, mine + limits.processes]
    env = {
        "NEXUS_KERNEL_DIR": str(kernel_dir),
        "IPYTHONDIR": str(kernel_dir / ".ipython"),
        "NEXUS_MEMORY_MB": str(limits.memory_mb),
        "MPLBACKEND": "agg",
        # glibc reserves 64 MB of address space per thread arena; ipykernel has a dozen threads
        "MALLOC_ARENA_MAX": "2",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        **(extra_env or {}),
    }
    config = {
        "rlimits": rlimits,
        "cgroup": str(cgroup) if cgroup else None,
        "pids_max": limits.processes,
        "cwd": str(kernel_dir / "work"),
        "env": env,
        "log": str(kernel_dir / "kernel.log"),
    }
    prefix = [sys.executable, "-I", str(LAUNCHER), json.dumps(config), "--"]
    if plan.bwrap:
        prefix += [
            plan.bwrap,
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--tmpfs",
            "/tmp",
            *_rebind_hidden_by_tmpfs(),
            "--bind",
            str(kernel_dir),
            str(kernel_dir),
            "--die-with-parent",
        ]
        if workspace is not None:
            prefix += ["--bind", str(workspace), str(workspace)]
        if not limits.network:
            prefix += ["--unshare-net"]
        prefix += ["--chdir", str(kernel_dir / "work"), "--"]
    return prefix


def _rebind_hidden_by_tmpfs() -> list[str]:
    """Read-only binds for what the kernel runs from but the private /tmp would hide.

    A checkout or virtualenv under /tmp (CI clones often live there) holds the interpreter, the
    site-packages and, for an editable install, this package's own source with the wrapper kernels'
    Node and Java runners.
    """
    needed = {sys.prefix, sys.exec_prefix, sys.base_prefix, str(Path(__file__).resolve().parents[1]),
              *(entry for entry in sys.path if entry)}
    hidden = sorted({os.path.realpath(p) for p in needed if os.path.realpath(p).startswith("/tmp/")})
    outermost = [p for p in hidden if not any(p != q and p.startswith(q + os.sep) for q in hidden)]
    binds: list[str] = []
    for path in outermost:
        if os.path.exists(path):
            binds += ["--ro-bind", path, path]
    return binds


def arm_cpu_limit(pid: int, cpu_seconds: int) -> None:
    """Give every process of the kernel ``cpu_seconds`` more CPU time from now (soft RLIMIT_CPU).

    Runs before every execution, so it reads /proc directly (tens of microseconds per process)
    rather than walking all processes as psutil's recursive ``children`` does.
    """
    if not cpu_seconds:
        return
    ticks = os.sysconf("SC_CLK_TCK")
    for proc_id in _tree_pids(pid):
        try:
            with open(f"/proc/{proc_id}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
            used = (int(fields[11]) + int(fields[12])) // ticks  # utime, stime (fields 14, 15)
            _, hard = resource.prlimit(proc_id, resource.RLIMIT_CPU)
            soft = used + cpu_seconds + 1
            if hard != resource.RLIM_INFINITY:
                soft = min(soft, hard)
            resource.prlimit(proc_id, resource.RLIMIT_CPU, (soft, hard))
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile, or not ours


def _tree_pids(pid: int) -> list[int]:
    """``pid`` and the descendants its main threads started (/proc/<pid>/task/<pid>/children).

    Kernels start their runtimes from the main thread; a process forked from another thread still got
    the limit in force when it was forked, it just is not topped up per execution. psutil's full walk
    is the fallback where /proc has no ``children`` files.
    """
    if not os.path.exists(f"/proc/{pid}/task/{pid}/children"):
        return [p.pid for p in _tree(pid)]
    found: list[int] = []
    todo = [pid]
    while todo and len(found) < 10_000:
        current = todo.pop()
        found.append(current)
        try:
            with open(f"/proc/{current}/task/{current}/children", "rb") as fh:
                todo.extend(int(child) for child in fh.read().split())
        except (OSError, ValueError):
            continue
    return found


def pids_limit_hit(root: Path | None, kernel_dir: Path) -> int:
    """How many forks the kernel's cgroup refused so far (0 without a cgroup)."""
    if root is None:
        return 0
    events = cgroup_for(root, kernel_dir) / "pids.events"
    try:
        for line in events.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "max":
                return int(value)
    except (OSError, ValueError):
        return 0
    return 0


def kill_tree(pid: int | None, root: Path | None, kernel_dir: Path) -> None:
    """SIGKILL the kernel's processes: its cgroup when it has one, then any descendants still known.

    A fork bomb can fork between a listing and the kill, so both walks repeat until nothing is left
    (bounded: with a pids cgroup the count is capped; without, 50 rounds).
    """
    cgroup = cgroup_for(root, kernel_dir) if root is not None else None
    for _ in range(50):
        victims: set[int] = set()
        if cgroup is not None and (cgroup / "cgroup.procs").exists():
            try:
                victims |= {int(x) for x in (cgroup / "cgroup.procs").read_text().split()}
            except (OSError, ValueError):
                pass
        if pid is not None:
            victims |= {p.pid for p in _tree(pid)}
        victims.discard(os.getpid())
        if not victims:
            break
        for victim in victims:
            try:
                os.kill(victim, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)
    if cgroup is not None:
        for _ in range(100):
            try:
                cgroup.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.02)  # processes just killed are still being reaped


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def describe(bwrap_enabled: bool = True) -> dict[str, str]:
    """Which sandbox layers are active on this machine, for ``nexus kernels list``."""
    bwrap = find_bwrap(bwrap_enabled)
    cgroup = find_cgroup_root()
    return {
        "rlimits": "memory, CPU time, file size" + (", processes" if os.geteuid() != 0 else ""),
        "pids cgroup": str(cgroup) if cgroup else "unavailable (no writable pids cgroup)",
        "bubblewrap": bwrap or "not installed (apt-get install bubblewrap): no network/filesystem isolation",
    }
