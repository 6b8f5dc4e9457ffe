"""The escape suite: attacks a user's code makes from inside a kernel, and what must hold on the host.

Each face's test (tests/kernels, tests/gateway, tests/jupyter_ext) runs every ``Attack`` through that face
and calls ``check`` with the reply object (``ExecutionResult.to_json()``): the attack must fail with a
clear error in the output, and the host must be untouched. The proofs come from issue 13, where each of
these succeeded. Every attack is harmless to the machine should the sandbox ever fail to stop it (the
mount targets a path that does not exist, the process killed is the suite's own sleeper, files written
are removed): a broken sandbox must fail the suite, not damage the host the suite runs on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import platform
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

GATEWAY_SECRET = "gateway-secret-" + "s" * 32
API_KEY = "sk-ant-escape-test-" + "k" * 24
FILE_SECRET = "secret-in-the-config-folder-" + "f" * 16


@dataclasses.dataclass
class Host:
    """What the attacks aim at: a host process, a host path, the service's secrets and folders."""

    sleeper: subprocess.Popen[bytes]
    marker: Path  # must never be created
    config_dir: Path  # NEXUS_CONFIG_DIR, holding FILE_SECRET
    workspace: Path
    service_pid: int
    memory_mb: int
    processes: int

    def subs(self, code: str) -> str:
        return (code.replace("MARKER", repr(str(self.marker))).replace("SLEEPER", str(self.sleeper.pid))
                .replace("CONFIG_DIR", repr(str(self.config_dir))).replace("SERVICE_PID", str(self.service_pid))
                .replace("WORKSPACE", repr(str(self.workspace))).replace("MEMORY_MB", str(self.memory_mb))
                .replace("MISSING", repr(str(self.marker).encode() + b"-mnt")))


@contextlib.contextmanager
def host(workspace: Path, memory_mb: int, processes: int) -> Iterator[Host]:
    """Secrets in the environment and the config folder, a sleeping host process; all undone after.

    The config folder is outside /tmp (whose whole view kernels replace anyway), in a folder kernels
    otherwise see: it must be hidden because it is Nexus's config folder."""
    config_dir = Path("/var/tmp") / f"nexus-escape-config-{uuid.uuid4().hex}"
    config_dir.mkdir(parents=True)
    (config_dir / "nexus.toml").write_text(f'[gateway]\nsecret = "{FILE_SECRET}"\n')
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEXUS_GATEWAY_SECRET", GATEWAY_SECRET)
        mp.setenv("ANTHROPIC_API_KEY", API_KEY)
        mp.setenv("NEXUS_CONFIG_DIR", str(config_dir))
        sleeper = subprocess.Popen(["sleep", "600"])
        marker = Path("/var/tmp") / f"nexus-escape-{uuid.uuid4().hex}"
        try:
            yield Host(sleeper, marker, config_dir, workspace, os.getpid(), memory_mb, processes)
        finally:
            sleeper.kill()
            sleeper.wait()
            marker.unlink(missing_ok=True)
            shutil.rmtree(config_dir, ignore_errors=True)


@dataclasses.dataclass(frozen=True)
class Attack:
    name: str
    code: str
    check: Callable[[Host, dict[str, Any]], None]
    needs: str = ""  # "pids" / "memory" / "cpu": a cgroup controller; "x86_64": syscall numbers


def _failed(result: dict[str, Any], *words: str) -> None:
    assert result["exitCode"] != 0, result
    assert any(w in result["output"] for w in words), result["output"]


def _remount(h: Host, r: dict[str, Any]) -> None:
    _failed(r, "Read-only file system")
    assert "mount exit 0" not in r["output"], r["output"]
    assert not h.marker.exists(), "the kernel wrote a file on the host"


def _kill(h: Host, r: dict[str, Any]) -> None:
    _failed(r, "ProcessLookupError", "PermissionError")
    assert h.sleeper.poll() is None, "the kernel killed a host process"


def _shadow(h: Host, r: dict[str, Any]) -> None:
    _failed(r, "PermissionError")
    assert "root:" not in r["output"]


def _no_secrets(h: Host, r: dict[str, Any]) -> None:
    assert r["exitCode"] == 0, r
    for secret in (GATEWAY_SECRET, API_KEY, FILE_SECRET, "NEXUS_GATEWAY_SECRET", "ANTHROPIC_API_KEY",
                   "NEXUS_CONFIG_DIR"):
        assert secret not in r["output"], f"{secret} visible to the kernel:\n{r['output']}"


def _config(h: Host, r: dict[str, Any]) -> None:
    _failed(r, "FileNotFoundError")
    assert FILE_SECRET not in r["output"] and "['nexus.toml']" not in r["output"], r["output"]


def _tmp_fill(h: Host, r: dict[str, Any]) -> None:
    assert "wrote it all" not in r["output"], r["output"]
    assert r["exitCode"] == 137 and "memory limit" in r.get("reason", "") or (
        r["exitCode"] == 1 and "No space left on device" in r["output"]), r


def _memory_and_tmp(h: Host, r: dict[str, Any]) -> None:
    assert "survived" not in r["output"], r["output"]
    assert r["exitCode"] == 137 and f"memory limit of {h.memory_mb} MB exceeded" in r.get("reason", ""), r


def _fork_bomb(h: Host, r: dict[str, Any]) -> None:
    assert r["exitCode"] == 137 and r.get("reason") == f"process limit of {h.processes} exceeded", r


def _seccomp(h: Host, r: dict[str, Any]) -> None:
    assert r["exitCode"] == 0, r
    for name in ("ptrace", "keyctl", "bpf", "userfaultfd", "io_uring_setup", "unshare", "mount"):
        assert f"{name} -1 EPERM" in r["output"], r["output"]


def _workspace_ro(h: Host, r: dict[str, Any]) -> None:
    _failed(r, "Read-only file system")
    assert not (h.workspace / "escaped.txt").exists()


REMOUNT = """import subprocess
r = subprocess.run(["mount", "-o", "remount,rw,bind", "/"], capture_output=True, text=True)
print("mount exit", r.returncode, r.stderr.strip()[:200])
open(MARKER, "w").write("escaped")"""
KILL = "import os\nos.kill(SLEEPER, 9)"
SHADOW = "print(open('/etc/shadow').read())"
SECRETS = """import os
for path in ["/proc/1/environ", "/proc/SERVICE_PID/environ", "/proc/self/environ"]:
    try:
        print(path, open(path, "rb").read())
    except OSError as exc:
        print(path, type(exc).__name__)
print(dict(os.environ))"""
CONFIG = """import os
for path in [CONFIG_DIR, "/root/.config/nexus", "/root"]:
    try:
        print(path, os.listdir(path))
    except OSError as exc:
        print(path, type(exc).__name__)
print(open(os.path.join(CONFIG_DIR, "nexus.toml")).read())"""
TMP_FILL = """import os
block = b"x" * (1 << 20)
try:
    with open("/tmp/nexus-escape-fill", "wb") as fh:
        for _ in range(MEMORY_MB + 64):
            fh.write(block)
            fh.flush()
    print("wrote it all")
finally:
    os.remove("/tmp/nexus-escape-fill")"""
# each alone fits the limit; together they do not: /tmp's pages count against the memory cgroup (the
# memory is taken by a fresh child, whose address space is far from the limit, unlike the kernel's)
MEMORY_AND_TMP = """import subprocess, sys
block = b"x" * (1 << 20)
with open("/tmp/nexus-escape-fill", "wb") as fh:
    for _ in range(MEMORY_MB * 6 // 10):
        fh.write(block)
hog = "held = bytearray(MEMORY_MB * 6 // 10 << 20)\\nfor i in range(0, len(held), 4096): held[i] = 1\\nprint('survived')"
try:
    r = subprocess.run([sys.executable, "-c", hog], capture_output=True, text=True)
    print("child exit", r.returncode, r.stdout)
finally:
    import os
    os.remove("/tmp/nexus-escape-fill")"""
FORK_BOMB = "import os\nwhile True:\n    os.fork()"
SECCOMP = """import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
def call(name, *args):
    ctypes.set_errno(0)
    rc = libc.syscall(*args)
    print(name, rc, errno.errorcode.get(ctypes.get_errno(), ctypes.get_errno()))
call("ptrace", 101, 0, 0, 0, 0)            # PTRACE_TRACEME: allowed for anyone without the filter
call("keyctl", 250, 0, -3, 0)             # KEYCTL_GET_KEYRING_ID of the session keyring
call("bpf", 321, 0, 0, 0)
call("userfaultfd", 323, 0)
call("io_uring_setup", 425, 1, 0)
call("unshare", 272, 0x10000000)          # CLONE_NEWUSER
call("mount", 165, b"none", MISSING, b"tmpfs", 0, 0)  # a path that does not exist: harmless if it ran"""
WORKSPACE_RO = "open(WORKSPACE + '/escaped.txt', 'w').write('x')"

ATTACKS = [
    Attack("remount-and-write-host-file", REMOUNT, _remount),
    Attack("kill-host-process", KILL, _kill),
    Attack("read-etc-shadow", SHADOW, _shadow),
    Attack("read-secrets-environ", SECRETS, _no_secrets),
    Attack("read-config-folder", CONFIG, _config),
    Attack("fill-tmp", TMP_FILL, _tmp_fill),
    Attack("tmp-counts-against-memory", MEMORY_AND_TMP, _memory_and_tmp, needs="memory"),
    Attack("fork-bomb", FORK_BOMB, _fork_bomb, needs="pids"),
    Attack("seccomp-denies", SECCOMP, _seccomp, needs="x86_64"),
    Attack("write-workspace", WORKSPACE_RO, _workspace_ro),
]


def unsupported(attack: Attack) -> str | None:
    """Why this machine cannot give the defence an attack tests, or None."""
    from nexus.kernels.cgroups import find_layout

    if attack.needs == "x86_64" and platform.machine() != "x86_64":
        return "the syscall numbers in this attack are x86_64's"
    if attack.needs in ("pids", "memory", "cpu"):
        layout = find_layout()
        if layout is None or not layout.has(attack.needs):
            return f"no writable {attack.needs} cgroup on this machine"
    return None


def skip_unless_supported(attack: Attack) -> None:
    """Skip an attack whose defence this machine cannot give (said, not silently passed)."""
    reason = unsupported(attack)
    if reason is not None:
        pytest.skip(reason)


def run_all(h: Host, results: dict[str, dict[str, Any]]) -> None:
    """Check each face's results (attack name -> reply); one message naming every attack that got out."""
    escaped = []
    for attack in ATTACKS:
        if attack.name not in results:
            continue
        try:
            attack.check(h, results[attack.name])
        except AssertionError as exc:
            escaped.append(f"{attack.name}: {exc}")
    assert not escaped, "\n\n".join(escaped)


def require_sandbox() -> None:
    from nexus.kernels import KernelSettings
    from nexus.kernels.sandbox import isolation

    found = isolation(KernelSettings())
    if not found.available:
        if os.geteuid() == 0 and shutil.which("bwrap"):  # CI's case: the suite must run, not skip
            pytest.fail(f"bubblewrap is installed but cannot sandbox kernels: {found.detail}")
        pytest.skip(f"kernels cannot be sandboxed here: {found.detail}")
