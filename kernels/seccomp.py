"""The seccomp filter bubblewrap loads into every kernel: system calls a notebook never needs, denied.

The filter is built with libseccomp (``libseccomp.so.2``, a dependency of bubblewrap itself, so it is
there wherever bwrap is) through ctypes, exported as classic BPF and handed to ``bwrap --seccomp FD``.
Denied calls fail with EPERM (a clear error in the user's code, not a dead kernel), except ``clone3``,
which fails with ENOSYS so that glibc falls back to ``clone``, whose flags a filter can inspect.

Why each group is denied (the user namespace and ``--cap-drop ALL`` already make most of them fail;
the filter is the second wall, and it also covers calls that need no capability at all):

- mounting and changing root (mount, umount2, the new mount API, pivot_root, chroot): the sandbox's
  view of the file system is fixed when it starts.
- namespaces (unshare, setns, clone with CLONE_NEW*): a nested user namespace would give back
  capabilities over a fresh namespace and open a large kernel attack surface.
- other processes' memory (ptrace, process_vm_readv/writev, pidfd_getfd, kcmp).
- kernel keyrings (keyctl, add_key, request_key): shared by uid across the host.
- kernel attack surface with a history of privilege escalations (bpf, perf_event_open, userfaultfd,
  io_uring_*), kernel modules and kexec, open_by_handle_at (the "shocker" escape), swap, reboot, acct,
  quotactl, syslog, iopl/ioperm, setting the clock.
- terminal injection (ioctl TIOCSTI / TIOCLINUX), also prevented by ``--new-session``.

Threads (clone without namespace flags), sockets on the loopback of the private network namespace,
memfd, mmap, and everything else ipykernel, Node, the JVM and g++ use stay allowed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import logging
import os
import tempfile

log = logging.getLogger(__name__)

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_MASKED_EQ = 7
SCMP_CMP_EQ = 4


def _errno(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


DENIED = (
    # mounts and the root directory
    "mount", "umount", "umount2", "pivot_root", "chroot", "mount_setattr", "move_mount", "open_tree",
    "fsopen", "fsconfig", "fsmount", "fspick",
    # namespaces
    "unshare", "setns",
    # other processes
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
    # keyrings
    "keyctl", "add_key", "request_key",
    # large kernel attack surface
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "open_by_handle_at", "name_to_handle_at", "lookup_dcookie", "uselib",
    # the machine itself
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "swapon", "swapoff",
    "reboot", "acct", "quotactl", "syslog", "iopl", "ioperm", "vhangup", "nfsservctl",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
)

_NAMESPACE_FLAGS = (
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
    0x00000080,  # CLONE_NEWTIME
)
_TIOCSTI = 0x5412
_TIOCLINUX = 0x541C


class _ArgCmp(ctypes.Structure):
    _fields_ = (
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    )


class SeccompUnavailable(RuntimeError):
    """libseccomp cannot be loaded or refused the filter."""


@functools.cache
def _lib() -> ctypes.CDLL:
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError as exc:
        raise SeccompUnavailable(f"libseccomp not found ({exc}); apt-get install libseccomp2") from exc
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = (ctypes.c_uint32,)
    lib.seccomp_release.argtypes = (ctypes.c_void_p,)
    lib.seccomp_syscall_resolve_name.argtypes = (ctypes.c_char_p,)
    lib.seccomp_syscall_resolve_name.restype = ctypes.c_int
    lib.seccomp_rule_add_array.argtypes = (
        ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(_ArgCmp))
    lib.seccomp_rule_add_array.restype = ctypes.c_int
    lib.seccomp_export_bpf.argtypes = (ctypes.c_void_p, ctypes.c_int)
    lib.seccomp_export_bpf.restype = ctypes.c_int
    return lib


@functools.cache
def filter_bpf() -> bytes:
    """The compiled filter for this machine's architecture; raises SeccompUnavailable."""
    lib = _lib()
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        raise SeccompUnavailable("seccomp_init failed")
    try:
        deny = _errno(errno.EPERM)
        for name in DENIED:
            number = lib.seccomp_syscall_resolve_name(name.encode())
            if number < 0:
                continue  # not a system call on this architecture
            _add(lib, ctx, deny, number, ())
        clone = lib.seccomp_syscall_resolve_name(b"clone")
        for flag in _NAMESPACE_FLAGS:
            _add(lib, ctx, deny, clone, ((0, SCMP_CMP_MASKED_EQ, flag, flag),))
        clone3 = lib.seccomp_syscall_resolve_name(b"clone3")
        if clone3 >= 0:
            _add(lib, ctx, _errno(errno.ENOSYS), clone3, ())
        ioctl = lib.seccomp_syscall_resolve_name(b"ioctl")
        for request in (_TIOCSTI, _TIOCLINUX):
            _add(lib, ctx, deny, ioctl, ((1, SCMP_CMP_MASKED_EQ, 0xFFFFFFFF, request),))
        with tempfile.TemporaryFile() as fh:
            rc = lib.seccomp_export_bpf(ctx, fh.fileno())
            if rc < 0:
                raise SeccompUnavailable(f"seccomp_export_bpf failed: {os.strerror(-rc)}")
            fh.seek(0)
            return fh.read()
    finally:
        lib.seccomp_release(ctx)


def _add(lib: ctypes.CDLL, ctx: int, action: int, number: int,
         comparisons: tuple[tuple[int, int, int, int], ...]) -> None:
    array = (_ArgCmp * max(1, len(comparisons)))(*(_ArgCmp(*c) for c in comparisons))
    rc = lib.seccomp_rule_add_array(ctx, action, number, len(comparisons), array)
    if rc < 0:
        raise SeccompUnavailable(f"seccomp rule for syscall {number} refused: {os.strerror(-rc)}")
