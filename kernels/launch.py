"""Start a kernel inside its limits: ``python launch.py CONFIG_JSON -- COMMAND...``.

Runs by path, before anything else is imported (it must not import nexus: that would import
jupyter_client into every kernel start). It runs with the service's privileges and, in order:

1. makes and joins the kernel's cgroups (``cgroups``: ``[{"dir", "files": [[name, value]]}]``; a name
   ending in ``?`` is skipped where the file does not exist);
2. sets the resource limits (``rlimits``: name -> [soft, hard]);
3. opens the kernel's log (``log``) as its stdout and stderr, refusing a symbolic link;
4. hands the kernel's own folders and its connection file (``own``: paths, in root-owned folders, not
   followed when they are links) to the sandbox user, then drops to that user (``user``: [uid, gid], no groups) when the
   service runs as root, so that inside bubblewrap's user namespace the kernel is an unprivileged host
   user: root-owned files such as /etc/shadow stay unreadable through their owner bits;
5. stages what bubblewrap must bind but the dropped user cannot reach (``stage``: [[source, target]],
   bind mounts in a mount namespace private to this kernel, gone with it);
6. passes the seccomp filter (``seccomp``: a file) to bubblewrap as an open descriptor, replacing the
   ``{seccomp_fd}`` placeholder in COMMAND;
7. ``exec``s COMMAND in ``cwd`` with exactly the environment ``env`` (nothing inherited), keeping this
   process id so jupyter_client's signals reach the kernel.
"""

import ctypes
import json
import os
import resource
import sys

CLONE_NEWNS = 0x00020000
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18


def stage(pairs: list[list[str]]) -> None:
    """Bind each source onto its staged path, in a mount namespace private to this kernel."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0 or libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        raise OSError(ctypes.get_errno(), "launch.py: cannot make a private mount namespace")
    for source, target in pairs:
        parent = os.path.dirname(target)
        os.makedirs(parent, mode=0o711, exist_ok=True)
        if os.path.isdir(source):
            os.makedirs(target, exist_ok=True)
        else:
            open(target, "a").close()
        if libc.mount(source.encode(), target.encode(), None, MS_BIND | MS_REC, None) != 0:
            raise OSError(ctypes.get_errno(), f"launch.py: cannot stage {source}")


def tree_pids(pid: int) -> list[int]:
    """``pid`` and the descendants its main threads started (/proc/<pid>/task/<pid>/children)."""
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


def arm_cpu(pid: int, seconds: int) -> None:
    """Give each process of the tree ``seconds`` more CPU time from now (its soft RLIMIT_CPU)."""
    ticks = os.sysconf("SC_CLK_TCK")
    for proc_id in tree_pids(pid):
        try:
            with open(f"/proc/{proc_id}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
            used = (int(fields[11]) + int(fields[12])) // ticks  # utime, stime (fields 14, 15)
            _, hard = resource.prlimit(proc_id, resource.RLIMIT_CPU)
            soft = used + seconds + 1
            if hard != resource.RLIM_INFINITY:
                soft = min(soft, hard)
            resource.prlimit(proc_id, resource.RLIMIT_CPU, (soft, hard))
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile, or not ours


def serve_cpu_armer(inp: int, out: int) -> None:
    """Read ``PID SECONDS`` lines from descriptor ``inp``, arm each tree, answer ``ok`` on ``out``.

    The service runs this (forked, see ``sandbox.CpuArmer``) as the kernels' user: without
    CAP_SYS_RESOURCE (containers often drop it), only a process of the same uid may change a
    kernel's limits.
    """
    buffer = b""
    while True:
        chunk = os.read(inp, 4096)
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            try:
                pid, seconds = (int(x) for x in line.split())
                arm_cpu(pid, seconds)
            except ValueError:
                pass
            os.write(out, b"ok\n")


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] != "--":
        sys.stderr.write("usage: launch.py CONFIG_JSON -- COMMAND...\n")
        raise SystemExit(2)
    config = json.loads(argv[0])
    command = argv[2:]
    for step in config.get("cgroups") or ():
        folder = step["dir"]
        os.makedirs(folder, exist_ok=True)
        for name, value in step["files"]:
            optional = name.endswith("?")
            path = os.path.join(folder, name.rstrip("?"))
            if optional and not os.path.exists(path):
                continue
            with open(path, "w") as fh:
                fh.write(value)
        with open(os.path.join(folder, "cgroup.procs"), "w") as fh:
            fh.write(str(os.getpid()))
    for name, (soft, hard) in config.get("rlimits", {}).items():
        which = getattr(resource, name)
        _, cur_hard = resource.getrlimit(which)
        hard = (
            cur_hard
            if hard is None
            else (hard if cur_hard == resource.RLIM_INFINITY else min(hard, cur_hard))
        )
        soft = hard if soft is None else (soft if hard == resource.RLIM_INFINITY else min(soft, hard))
        resource.setrlimit(which, (soft, hard))
    if config.get("log"):
        # the kernel's own stdout/stderr (startup failures, crashes) go to its log file, kept across restarts
        fd = os.open(config["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    user = config.get("user")
    if user is not None:
        uid, gid = user
        for path in config.get("own", ()):
            if os.path.lexists(path):
                os.chown(path, uid, gid, follow_symlinks=False)
    if config.get("stage"):
        stage(config["stage"])
    if config.get("seccomp"):
        fd = os.open(config["seccomp"], os.O_RDONLY | os.O_NOFOLLOW)
        os.set_inheritable(fd, True)
        command = [str(fd) if part == "{seccomp_fd}" else part for part in command]
    if user is not None:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        if os.getuid() != uid or os.geteuid() != uid:
            raise SystemExit("launch.py: could not drop privileges")
    if config.get("cwd"):
        os.chdir(config["cwd"])
    os.execvpe(command[0], command, config.get("env", {}))


if __name__ == "__main__":
    main(sys.argv[1:])
