"""Start a kernel inside its limits: ``python launch.py CONFIG_JSON -- COMMAND...``.

Runs by path, before anything else is imported (it must not import nexus: that would import
jupyter_client into every kernel start). It joins the kernel's pids cgroup when one was prepared,
sets the resource limits, changes into the kernel's working folder and ``exec``s the command, so the
kernel keeps this process id and jupyter_client's signals reach it. CONFIG_JSON keys: ``rlimits``
(name -> [soft, hard]), ``cgroup`` (a pids cgroup folder to make and join, capped at ``pids_max``),
``cwd``, ``env`` (variables to set), ``log`` (file that receives the kernel's stdout and stderr).
"""

import json
import os
import resource
import sys


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] != "--":
        sys.stderr.write("usage: launch.py CONFIG_JSON -- COMMAND...\n")
        raise SystemExit(2)
    config = json.loads(argv[0])
    command = argv[2:]
    cgroup = config.get("cgroup")
    if cgroup:
        os.makedirs(cgroup, exist_ok=True)
        with open(os.path.join(cgroup, "pids.max"), "w") as fh:
            fh.write(str(config["pids_max"]))
        with open(os.path.join(cgroup, "cgroup.procs"), "w") as fh:
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
        fd = os.open(config["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    os.environ.update(config.get("env", {}))
    if config.get("cwd"):
        os.chdir(config["cwd"])
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
