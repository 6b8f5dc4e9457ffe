"""Per-kernel control groups: memory (including the kernel's /tmp), process count and CPU share.

Two layouts are supported, whichever this machine can give:

- cgroup v2, a delegated subtree: one folder whose ``cgroup.subtree_control`` enables ``memory``,
  ``pids`` and ``cpu`` (the admin delegates it, or ``kernels.cgroup_root`` names it); each kernel gets
  ``nexus-<id>/`` with ``memory.max``, ``memory.swap.max``, ``pids.max`` and ``cpu.max``.
- cgroup v1, one hierarchy per controller (``/sys/fs/cgroup/memory`` ...): each kernel gets
  ``nexus-<id>/`` under this process's own cgroup of each writable controller, with
  ``memory.limit_in_bytes`` (+ ``memory.memsw.limit_in_bytes``), ``pids.max`` and
  ``cpu.cfs_quota_us``/``cpu.cfs_period_us``.

The launcher (``launch.py``, as the service's user, before dropping privileges) makes the folders,
writes the limits and joins them, at every (re)start; the service reads the event counters afterwards
to report each limit as itself, and removes the folders when the kernel goes. Pages of the kernel's
tmpfs /tmp are charged to the memory cgroup of the process that wrote them, so filling /tmp counts
against the memory limit.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from pathlib import Path

log = logging.getLogger(__name__)

CONTROLLERS = ("memory", "pids", "cpu")
MB = 1024 * 1024
CPU_PERIOD_US = 100_000
_V1_BASE = Path("/sys/fs/cgroup")


@dataclasses.dataclass(frozen=True, slots=True)
class CgroupLayout:
    """Where kernel cgroups are made: controller -> parent folder (v2: the same folder for all)."""

    version: int
    parents: dict[str, Path]

    def describe(self) -> str:
        if self.version == 2:
            return f"v2 at {next(iter(self.parents.values()))} ({', '.join(self.parents)})"
        return "v1: " + ", ".join(f"{name} at {path}" for name, path in self.parents.items())

    def folders(self, kernel_id: str) -> dict[str, Path]:
        """The kernel's cgroup folder per controller."""
        return {name: parent / f"nexus-{kernel_id}" for name, parent in self.parents.items()}

    def plan(self, kernel_id: str, memory_mb: int, processes: int, cpus: float) -> list[dict[str, object]]:
        """What launch.py writes: ``[{"dir": ..., "files": [[name, value], ...]}]``, then it joins each."""
        steps: dict[Path, list[list[str]]] = {}
        folders = self.folders(kernel_id)
        for name, folder in folders.items():
            files = steps.setdefault(folder, [])
            if name == "memory" and memory_mb:
                limit = str(memory_mb * MB)
                if self.version == 2:
                    files += [["memory.max", limit], ["memory.swap.max?", "0"]]
                else:
                    files += [["memory.limit_in_bytes", limit], ["memory.memsw.limit_in_bytes?", limit]]
            elif name == "pids" and processes:
                files.append(["pids.max", str(processes)])
            elif name == "cpu" and cpus:
                quota = str(max(1000, int(cpus * CPU_PERIOD_US)))
                if self.version == 2:
                    files.append(["cpu.max", f"{quota} {CPU_PERIOD_US}"])
                else:
                    files += [["cpu.cfs_period_us", str(CPU_PERIOD_US)], ["cpu.cfs_quota_us", quota]]
        return [{"dir": str(folder), "files": files} for folder, files in steps.items()]

    def has(self, controller: str) -> bool:
        return controller in self.parents


def find_layout(override: str = "") -> CgroupLayout | None:
    """The writable cgroups for kernels here, or None (the caller falls back to rlimits)."""
    if override:
        root = Path(override)
        if (root / "cgroup.subtree_control").exists():
            layout = _v2_at(root)
            if layout is not None:
                return layout
        log.warning("kernels.cgroup_root %s is not a writable cgroup v2 folder with memory, pids and cpu "
                    "delegated; looking for another", root)
    own = _own_cgroups()
    if "" in own:
        layout = _v2_at(Path("/sys/fs/cgroup") / own[""].lstrip("/"))
        if layout is None and Path("/sys/fs/cgroup/unified").is_dir():
            layout = _v2_at(Path("/sys/fs/cgroup/unified") / own[""].lstrip("/"))
        if layout is not None:
            return layout
    parents: dict[str, Path] = {}
    for name in CONTROLLERS:
        mount = _V1_BASE / name
        if not (mount / "cgroup.procs").exists() or (mount / "cgroup.subtree_control").exists():
            continue
        folder = mount / own.get(name, "/").lstrip("/")
        if (folder / "cgroup.procs").exists() and os.access(folder, os.W_OK):
            parents[name] = folder
    return CgroupLayout(1, parents) if parents else None


def _v2_at(folder: Path) -> CgroupLayout | None:
    """The v2 layout at ``folder`` when it can hold kernel cgroups with our controllers enabled."""
    control = folder / "cgroup.subtree_control"
    if not control.exists() or not os.access(folder, os.W_OK):
        return None
    try:
        available = (folder / "cgroup.controllers").read_text().split()
        enabled = control.read_text().split()
        wanted = [c for c in CONTROLLERS if c in available]
        missing = [c for c in wanted if c not in enabled]
        if missing:
            # only possible when no process lives directly in ``folder`` (the no-internal-process rule)
            control.write_text(" ".join(f"+{c}" for c in missing))
            enabled = control.read_text().split()
    except OSError as exc:
        log.debug("cgroup v2 folder %s cannot delegate: %s", folder, exc)
        return None
    usable = [c for c in CONTROLLERS if c in enabled]
    return CgroupLayout(2, {c: folder for c in usable}) if usable else None


def _own_cgroups() -> dict[str, str]:
    """This process's cgroup path per v1 controller, and under "" its v2 path."""
    found: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(","):
            found[name] = path
    return found


def counter(folder: Path, file: str, key: str) -> int:
    """A ``key value`` line's value from an events file (0 when absent or unreadable)."""
    try:
        for line in (folder / file).read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        return 0
    return 0


def oom_kills(layout: CgroupLayout | None, kernel_id: str) -> int:
    """How many processes the kernel's memory cgroup OOM-killed so far."""
    if layout is None or not layout.has("memory"):
        return 0
    folder = layout.folders(kernel_id)["memory"]
    if layout.version == 2:
        return counter(folder, "memory.events", "oom_kill")
    return counter(folder, "memory.oom_control", "oom_kill")


def forks_refused(layout: CgroupLayout | None, kernel_id: str) -> int:
    """How many forks the kernel's pids cgroup refused so far."""
    if layout is None or not layout.has("pids"):
        return 0
    return counter(layout.folders(kernel_id)["pids"], "pids.events", "max")


def members(layout: CgroupLayout | None, kernel_id: str) -> set[int]:
    found: set[int] = set()
    if layout is None:
        return found
    for folder in set(layout.folders(kernel_id).values()):
        try:
            found |= {int(x) for x in (folder / "cgroup.procs").read_text().split()}
        except (OSError, ValueError):
            continue
    return found


def remove(layout: CgroupLayout | None, kernel_id: str) -> None:
    """Remove the kernel's folders (its processes are already dead; they may still be being reaped)."""
    if layout is None:
        return
    for folder in set(layout.folders(kernel_id).values()):
        for _ in range(100):
            try:
                folder.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.02)


def remove_stale(layout: CgroupLayout, older_than: float = 300.0) -> None:
    """Remove empty ``nexus-*`` cgroups left by services that were killed before cleaning up."""
    now = time.time()
    for parent in set(layout.parents.values()):
        for folder in parent.glob("nexus-*"):
            try:
                if now - folder.stat().st_mtime > older_than and not (folder / "cgroup.procs").read_text().strip():
                    folder.rmdir()
            except OSError:
                continue  # in use, or removed by someone else meanwhile
