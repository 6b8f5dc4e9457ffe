"""How a kernel process is confined. ``describe()`` says which layers are active on this machine.

Layers, each enforcing something the others do not:

- bubblewrap (``bwrap``), the boundary: a user namespace (``--unshare-user``) mapping the kernel to an
  unprivileged host id, every capability dropped, PID, IPC, UTS and (unless ``kernels.network``) network
  namespaces, ``--die-with-parent``, ``--new-session``, no_new_privs, the seccomp filter of
  ``seccomp.py``, a read-only view of the system with the users' homes, Nexus's config, cache and data
  folders, the session registry and other kernels' folders hidden under empty tmpfs mounts, a private
  /tmp sized at the memory limit, the workspace read-only unless a run asks to write, and write access
  to the kernel's own folder. When the service runs as root, ``launch.py`` drops to
  ``kernels.sandbox_uid``/``sandbox_gid`` (65534, nobody) before starting bwrap: a user namespace made
  by root would map the kernel to host uid 0, and root-owned files (/etc/shadow) would stay readable.
- cgroups (``cgroups.py``, v2 delegated or v1, when writable): memory (with /tmp's pages), processes
  and CPU share, per kernel, reported as themselves when hit.
- rlimits (always): address space, file size and CPU time per execution; processes when no pids cgroup
  exists (RLIMIT_NPROC counts every process of the kernel's user).
- the environment (``kernel_env``): an allowlist; the server's secrets never reach a kernel.

CPU time is per execution: before each run the service raises every process's soft RLIMIT_CPU to
"used so far + the limit" (``arm_cpu_limit``), so a long-lived session is not killed by its history.
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import logging
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import psutil

from . import cgroups, launch
from .cgroups import CgroupLayout
from .settings import KernelSettings, Limits

log = logging.getLogger(__name__)

LAUNCHER = Path(__file__).with_name("launch.py")
PACKAGE_ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024
BWRAP_NAMESPACES = ("--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try")

# Variables a kernel may inherit from the service: what programs need to find things and print text.
# Everything else (NEXUS_GATEWAY_SECRET, *_API_KEY, tokens, NEXUS_* settings) stays outside.
ENV_ALLOWED = ("PATH", "LANG", "LANGUAGE", "TERM", "TZ", "JAVA_HOME", "JDK_HOME", "NODE_PATH", "PYTHONPATH",
               "VIRTUAL_ENV", "CONDA_PREFIX", "LD_LIBRARY_PATH", "SSL_CERT_FILE", "SSL_CERT_DIR")
ENV_ALLOWED_PREFIXES = ("LC_",)


@dataclasses.dataclass(frozen=True, slots=True)
class Isolation:
    """Whether kernels here run behind the bubblewrap boundary, and if not, why."""

    available: bool
    bwrap: str | None
    detail: str


@dataclasses.dataclass(frozen=True, slots=True)
class SandboxPlan:
    """What one kernel start applies.

    ``headroom_mb``: address space a runtime needs beyond its heap; ``runtime_mb``: memory it uses beyond
    its heap (the memory cgroup's allowance over ``limits.memory_mb``); ``user``: host uid/gid the kernel
    drops to (None: stay the service's user); ``ro_binds``: folders under hidden ones the runtime needs.
    """

    limits: Limits
    headroom_mb: int = 0
    runtime_mb: int = 0
    bwrap: str | None = None
    cgroups: CgroupLayout | None = None
    seccomp_file: Path | None = None
    user: tuple[int, int] | None = None
    env: Mapping[str, str] = dataclasses.field(default_factory=dict)
    ro_binds: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    cpus: float = 0.0
    cwd_in_workspace: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class KernelPaths:
    """A kernel's folder: root-owned ``root`` (mode 0711) holding the log and, owned by the kernel's user,
    the connection file, ``run/`` (IPC sockets), ``work/`` (its cwd) and ``home/`` (its HOME)."""

    root: Path

    @property
    def connection_file(self) -> Path:
        return self.root / "kernel.json"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def log(self) -> Path:
        return self.root / "kernel.log"

    def make(self) -> None:
        self.root.mkdir(mode=0o711)
        os.chmod(self.root, 0o711)
        for folder in (self.run, self.work, self.home):
            folder.mkdir(mode=0o700)


def sandbox_user(settings: KernelSettings) -> tuple[int, int] | None:
    """The host uid/gid kernels drop to: only when the service is root (otherwise it is its own user)."""
    return (settings.sandbox_uid, settings.sandbox_gid) if os.geteuid() == 0 else None


_ISOLATION: dict[tuple[str, tuple[int, int] | None], Isolation] = {}


def isolation(settings: KernelSettings) -> Isolation:
    """Probe (once per process) whether bubblewrap can build the whole boundary here."""
    if not settings.use_bwrap:
        return Isolation(False, None, "disabled by the setting kernels.use_bwrap = false")
    path = shutil.which("bwrap")
    if path is None:
        return Isolation(False, None, "bubblewrap is not installed (apt-get install bubblewrap)")
    user = sandbox_user(settings)
    key = (path, user)
    if key not in _ISOLATION:
        _ISOLATION[key] = _probe(path, user)
        if not _ISOLATION[key].available:
            log.warning("kernels are NOT sandboxed: %s", _ISOLATION[key].detail)
    return _ISOLATION[key]


def _probe(path: str, user: tuple[int, int] | None) -> Isolation:
    from .seccomp import SeccompUnavailable, filter_bpf

    try:
        filter_bpf()
    except SeccompUnavailable as exc:
        return Isolation(False, path, f"no seccomp filter: {exc}")
    argv = [path, *BWRAP_NAMESPACES, "--unshare-net", "--cap-drop", "ALL", "--disable-userns",
            "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "true"]
    drop = {"user": user[0], "group": user[1], "extra_groups": []} if user is not None else {}
    try:
        done = subprocess.run(argv, capture_output=True, check=False, timeout=10, **drop)  # type: ignore[call-overload]
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Isolation(False, path, f"bwrap could not run: {exc}")
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip()
        hint = ""
        try:
            if Path("/proc/sys/user/max_user_namespaces").read_text().strip() == "0":
                hint = " (user namespaces are disabled: sysctl user.max_user_namespaces=15000)"
        except OSError:
            pass
        return Isolation(False, path, f"bwrap cannot create an unprivileged user namespace here: {err}{hint}")
    who = f" as uid {user[0]}" if user is not None else ""
    return Isolation(True, path, f"{path}{who}: user/pid/ipc/uts/net namespaces, no capabilities, seccomp")


def hidden_folders(settings: KernelSettings, base: Path | None) -> list[str]:
    """Folders a kernel must not see: homes, Nexus's config/cache/data, the session registry, /tmp."""
    from nexus.engine.config import user_cache_dir, user_config_dir

    candidates: list[str | Path] = ["/root", "/home", Path.home(), user_config_dir(), user_cache_dir(), "/tmp"]
    candidates += [os.environ.get("NEXUS_DATA_DIR", ""), os.environ.get("NEXUS_SESSIONS_DIR", "")]
    try:
        import platformdirs

        candidates.append(platformdirs.user_data_dir("nexus"))
        from jupyter_core.paths import jupyter_runtime_dir

        candidates.append(jupyter_runtime_dir())
    except ImportError:  # pragma: no cover - both are dependencies
        pass
    candidates += [str(p) for p in settings.hidden_paths]
    if base is not None:
        candidates.append(base)
    found = {os.path.realpath(str(c)) for c in candidates if str(c)}
    return sorted((p for p in found if p != "/" and os.path.isdir(p)), key=lambda p: (p.count(os.sep), p))


def closed_ancestor(path: str, uid: int) -> str | None:
    """The first folder above ``path`` that a process of ``uid`` cannot look into, or None."""
    parts = Path(path).parts
    for depth in range(2, len(parts)):
        prefix = str(Path(*parts[:depth]))
        try:
            st = os.stat(prefix)
        except OSError:
            return None
        if not (st.st_mode & stat.S_IXOTH) and st.st_uid != uid:
            return prefix
    return None


def mount_points(hidden: Iterable[str], binds: Iterable[str], uid: int | None) -> list[str]:
    """Where the tmpfs mounts go for a sandbox running as ``uid``: over each hidden folder, and over the
    first folder closed to others above a hidden folder or a bind target.

    bwrap makes its mounts as that unprivileged user, so it cannot look inside a folder closed to others
    (a 0700 cache or project folder, a test's temporary folder): it could neither mount below one nor
    create a bind target's parents there. Nothing below such a folder is visible to the kernel anyway, so
    an empty tmpfs on it hides nothing more, and gives the binds a place to land.
    """
    points = set(hidden)
    if uid is not None:
        for path in [*hidden, *binds]:
            closed = closed_ancestor(path, uid)
            if closed is not None:
                points.add(closed)
    return sorted(points, key=lambda p: (p.count(os.sep), p))


def runtime_paths(extra: Iterable[str] = ()) -> list[str]:
    """What kernels run from: the interpreter, its site-packages, this package, and ``extra``."""
    needed = {sys.prefix, sys.exec_prefix, sys.base_prefix, str(PACKAGE_ROOT), *(e for e in sys.path if e), *extra}
    return sorted({os.path.realpath(p) for p in needed if os.path.exists(p)})


def _under(path: str, folders: Iterable[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)


def _outermost(paths: Iterable[str]) -> list[str]:
    ordered = sorted(set(paths))
    return [p for p in ordered if not _under(p, [q for q in ordered if q != p])]


def kernel_env(
    paths: KernelPaths, limits: Limits, language_env: Mapping[str, str], configured: Mapping[str, str]
) -> dict[str, str]:
    """The kernel's whole environment: allowlisted variables, the kernel's own, then the admin's."""
    env = {k: v for k, v in os.environ.items() if k in ENV_ALLOWED or k.startswith(ENV_ALLOWED_PREFIXES)}
    env.setdefault("PATH", os.defpath)
    env.setdefault("LANG", "C.UTF-8")
    env.update({
        "HOME": str(paths.home),
        "TMPDIR": "/tmp",
        "NEXUS_KERNEL_DIR": str(paths.work),
        "IPYTHONDIR": str(paths.home / ".ipython"),
        "NEXUS_MEMORY_MB": str(limits.memory_mb),
        "MPLBACKEND": "agg",
        # glibc reserves 64 MB of address space per thread arena; ipykernel has a dozen threads
        "MALLOC_ARENA_MAX": "2",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "PYTHONNOUSERSITE": "1",
    })
    env.update(language_env)
    env.update(configured)
    return env


def launch_prefix(
    plan: SandboxPlan, paths: KernelPaths, workspace: Path | None, writable: bool = False, *,
    mounts: Sequence[Path] = (), cwd: Path | None = None, log_output: bool = True,
) -> list[str]:
    """The argv that goes before a kernel's own argv (launcher, then bwrap when available).

    ``mounts``: more folders visible like the workspace (a file run's folder); ``cwd``: where the
    command starts (default: the workspace with ``cwd_in_workspace``, else the kernel's ``work/``);
    ``log_output``: stdout and stderr go to the kernel's log (a program run keeps its pipes).
    """
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
    layout = plan.cgroups
    if limits.processes and not (layout is not None and layout.has("pids")):
        uid = plan.user[0] if plan.user is not None else os.getuid()
        if uid != 0:  # RLIMIT_NPROC counts every process of the user, so allow what the user already runs
            mine = sum(1 for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real == uid)
            rlimits["RLIMIT_NPROC"] = [mine + limits.processes, mine + limits.processes]
    memory = limits.memory_mb + plan.runtime_mb if limits.memory_mb else 0
    config: dict[str, object] = {
        "rlimits": rlimits,
        "cgroups": layout.plan(paths.root.name, memory, limits.processes, plan.cpus) if layout else [],
        "cwd": str(_start_folder(plan, paths, workspace, cwd) if not plan.bwrap else paths.work),
        "env": dict(plan.env),
        "log": str(paths.log) if log_output else None,
        "user": list(plan.user) if plan.user is not None else None,
        "own": [str(p) for p in (paths.run, paths.work, paths.home, paths.connection_file)],
        "seccomp": str(plan.seccomp_file) if plan.bwrap and plan.seccomp_file else None,
    }
    wrap: list[str] = []
    if plan.bwrap:
        wrap, config["stage"] = _bwrap(plan, paths, workspace, writable, mounts, cwd)
    return [sys.executable, "-I", str(LAUNCHER), json.dumps(config), "--", *wrap]


def _start_folder(plan: SandboxPlan, paths: KernelPaths, workspace: Path | None, cwd: Path | None) -> Path:
    if cwd is not None:
        return cwd
    return workspace if workspace is not None and plan.cwd_in_workspace else paths.work


def bwrap_args(plan: SandboxPlan, paths: KernelPaths, workspace: Path | None, writable: bool) -> list[str]:
    args, _ = _bwrap(plan, paths, workspace, writable)
    return args


def _bwrap(
    plan: SandboxPlan, paths: KernelPaths, workspace: Path | None, writable: bool,
    mounts: Sequence[Path] = (), cwd: Path | None = None,
) -> tuple[list[str], list[list[str]]]:
    """bwrap's argv and the sources ``launch.py`` stages: ``[[source, staged path], ...]``.

    With a dropped user, bwrap (running as that user) cannot reach a source below a folder closed to
    it (a virtualenv under /root): the launcher, still root, bind-mounts each source into a folder the
    user can reach, in a private mount namespace of its own, and bwrap binds it from there.
    """
    args = [plan.bwrap or "bwrap", *BWRAP_NAMESPACES]
    if plan.user is not None:
        args += ["--uid", str(plan.user[0]), "--gid", str(plan.user[1])]
    if not plan.limits.network:
        args.append("--unshare-net")
    args += ["--cap-drop", "ALL", "--disable-userns", "--die-with-parent", "--new-session"]
    if plan.seccomp_file is not None:
        args += ["--seccomp", "{seccomp_fd}"]
    args += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    targets = [str(paths.root), *plan.ro_binds, *([str(workspace)] if workspace is not None else []),
               *(str(m) for m in mounts)]
    hidden = mount_points(plan.hidden, targets, plan.user[0] if plan.user is not None else None)
    for folder in _outermost(hidden):
        if folder == "/tmp" and plan.limits.memory_mb:
            args += ["--size", str(plan.limits.memory_mb * MB)]  # counted in the memory cgroup too
        args += ["--tmpfs", folder]
    bound = [str(paths.root)]
    visible = _outermost([str(p) for p in ([workspace] if workspace is not None else []) + list(mounts)])
    bound += visible
    rebind = [p for p in _outermost(plan.ro_binds) if _under(p, hidden) and not _under(p, bound)]
    binds = [("--ro-bind", path) for path in rebind]
    binds += [("--bind" if writable else "--ro-bind", path) for path in visible]
    stage: list[list[str]] = []
    stage_dir = paths.root.with_name(paths.root.name + "-mnt")
    for kind, path in binds:
        source = path
        if plan.user is not None:
            source = str(stage_dir / str(len(stage)))
            stage.append([path, source])
        args += [kind, source, path]
    args += ["--bind", str(paths.root), str(paths.root)]
    # hidden folders inside what was just bound back (a config folder inside the workspace, say)
    for folder in hidden:
        if folder != "/tmp" and _under(folder, [*rebind, *bound]) and not _under(str(paths.root), [folder]):
            args += ["--tmpfs", folder]
    args += ["--chdir", str(_start_folder(plan, paths, workspace, cwd)), "--"]
    return args, stage


def arm_cpu_limit(pid: int, cpu_seconds: int) -> None:
    """Give every process of the kernel ``cpu_seconds`` more CPU time from now (soft RLIMIT_CPU).

    Runs before every execution, so it reads /proc directly (tens of microseconds per process)
    rather than walking all processes as psutil's recursive ``children`` does.
    """
    if cpu_seconds:
        launch.arm_cpu(pid, cpu_seconds)


class CpuArmer:
    """``arm_cpu_limit`` done by a helper process running as the kernels' (dropped) user.

    Changing another user's rlimits needs CAP_SYS_RESOURCE, which containers often drop even for root;
    a process of the kernel's own uid may always do it. The helper is forked from the service (the
    interpreter may live where that user cannot read, so it cannot be exec'd as that user), closes
    every inherited descriptor but its pipes, drops to the user and dies with the service. One per
    backend, a pipe round trip per execution (tens of microseconds); forked again when it is gone.
    """

    def __init__(self, user: tuple[int, int]) -> None:
        self.user = user
        self._pid = 0
        self._to = self._from = -1

    def arm(self, pid: int, cpu_seconds: int) -> None:
        if not cpu_seconds:
            return
        for _ in range(2):
            try:
                if self._pid == 0:
                    self._fork()
                os.write(self._to, f"{pid} {cpu_seconds}\n".encode())
                if os.read(self._from, 3) == b"ok\n":
                    return
            except OSError:
                pass
            self.close()
        log.warning("could not arm the CPU time limit of kernel process %d", pid)

    def _fork(self) -> None:
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the child
            code = 1
            try:
                ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (ctypes imported before the fork)
                os.dup2(to_r, 0)
                os.dup2(from_w, 1)
                os.closerange(3, 65536)
                os.setgroups([])
                os.setgid(self.user[1])
                os.setuid(self.user[0])
                launch.serve_cpu_armer(0, 1)
                code = 0
            finally:
                os._exit(code)
        os.close(to_r)
        os.close(from_w)
        self._pid, self._to, self._from = child, to_w, from_r

    def close(self) -> None:
        if self._pid:
            for fd in (self._to, self._from):
                try:
                    os.close(fd)
                except OSError:
                    pass
            try:
                os.kill(self._pid, signal.SIGKILL)
                os.waitpid(self._pid, 0)
            except OSError:
                pass
            self._pid, self._to, self._from = 0, -1, -1


def kill_tree(pid: int | None, layout: CgroupLayout | None, kernel_id: str) -> None:
    """SIGKILL the kernel's processes: its cgroups' members, then any descendants still known.

    A fork bomb can fork between a listing and the kill, so both walks repeat until nothing is left
    (bounded: with a pids cgroup the count is capped; without, 50 rounds).
    """
    for _ in range(50):
        victims = cgroups.members(layout, kernel_id)
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
    cgroups.remove(layout, kernel_id)


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def describe(settings: KernelSettings) -> dict[str, str]:
    """Which sandbox layers are active on this machine, for ``nexus kernels list``."""
    found = isolation(settings)
    layout = cgroups.find_layout(settings.cgroup_root) if settings.use_cgroups else None
    out = {
        "isolation": ("bubblewrap: " + found.detail) if found.available else (
            "NONE: " + found.detail + ("; unsandboxed execution allowed by kernels.allow_unsandboxed"
                                       if settings.allow_unsandboxed else
                                       "; the gateway and the Jupyter extension refuse to run code "
                                       "(kernels.allow_unsandboxed = true to accept)")),
        "cgroups": layout.describe() if layout else "unavailable (no writable cgroup): rlimits only",
        "rlimits": "address space, CPU time per run, file size"
                   + ("" if layout is not None and layout.has("pids") else ", processes"),
    }
    return out
