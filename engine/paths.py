"""Paths a client names are opened beneath the workspace root, or refused when they would leave it.

Every adapter that reads a file for a client (LSP, Jupyter extension, gateway, ``nexus ask``) goes
through :func:`read_text_inside` / :func:`open_inside`, so `../`, absolute paths and symlinks pointing out
are refused in one place. Checking ``realpath`` and then opening the path again is a race: a symlink
swapped in between the two is followed out of the workspace. So the file is *opened* relative to a
descriptor of the root, never through the path a second time:

- ``openat2(2)`` with ``RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`` where the kernel has it (Linux >= 5.6;
  Python 3.11's ``os`` has no wrapper, so it is called through ``syscall``): the kernel refuses any step
  out, atomically;
- otherwise (and for absolute symlinks that point back inside, which ``RESOLVE_BENEATH`` refuses) a
  walk one component at a time with ``O_NOFOLLOW`` relative to the parent's descriptor; a symlink is read
  with ``readlinkat`` and its target walked the same way, from the root when it is absolute, with a cap
  on how many links one path may follow.

Either way the opened descriptor is checked (``fstat``: a regular file), and it is opened ``O_NONBLOCK``
so a FIFO cannot hang the reader.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import stat
import sys
import threading
from pathlib import Path
from typing import Any

from .errors import BadPathError, NotFoundError, WorkspaceError

log = logging.getLogger(__name__)

MAX_READ_BYTES = 10 * 1024 * 1024
MAX_SYMLINKS = 40  # the kernel's own limit (ELOOP)

_SYS_OPENAT2 = 437  # the same number on every Linux architecture (the unified syscall table)
_RESOLVE_NO_MAGICLINKS = 0x02
_RESOLVE_BENEATH = 0x08
_OPEN_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK
_DIR_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_DIRECTORY | os.O_NOFOLLOW


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


class _Openat2:
    """The ``openat2`` system call, probed once: None from :meth:`open` means "not available here"."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.available: bool | None = None if sys.platform.startswith("linux") else False
        self._syscall: Any = None

    def open(self, dir_fd: int, rel: bytes) -> int | None:
        """A descriptor for ``rel`` beneath ``dir_fd``; None when openat2 cannot be used here.

        Raises OSError as the kernel reports it (EXDEV for a step out of the directory).
        """
        if self.available is False:
            return None
        with self._lock:
            if self._syscall is None:
                try:
                    libc = ctypes.CDLL(None, use_errno=True)
                    syscall = libc.syscall
                except (OSError, AttributeError):
                    self.available = False
                    return None
                syscall.restype = ctypes.c_long
                syscall.argtypes = [ctypes.c_long, ctypes.c_int, ctypes.c_char_p,
                                    ctypes.POINTER(_OpenHow), ctypes.c_size_t]
                self._syscall = syscall
        how = _OpenHow(_OPEN_FLAGS, 0, _RESOLVE_BENEATH | _RESOLVE_NO_MAGICLINKS)
        fd = int(self._syscall(_SYS_OPENAT2, dir_fd, rel, ctypes.byref(how), ctypes.sizeof(how)))
        if fd >= 0:
            self.available = True
            return fd
        err = ctypes.get_errno()
        if self.available is None and err in (errno.ENOSYS, errno.EPERM, errno.EINVAL):
            # no openat2 in this kernel, or a seccomp profile that forbids it: walk instead
            log.info("openat2 unavailable (%s): reads inside the workspace walk the path instead",
                     os.strerror(err))
            self.available = False
            return None
        raise OSError(err, os.strerror(err))


OPENAT2 = _Openat2()


def encode_path(path: str | os.PathLike[str]) -> bytes:
    """The bytes the file system sees for ``path``; raises BadPathError for what cannot name a file
    (a NUL byte, a lone surrogate that is not an escaped undecodable byte)."""
    try:
        raw = os.fsencode(path)
    except UnicodeEncodeError as exc:
        raise BadPathError(f"{ascii(str(path))} is not a valid path: it contains characters that cannot be "
                           "encoded (a lone surrogate?)") from exc
    except TypeError as exc:
        raise BadPathError(f"{path!r} is not a path") from exc
    if b"\0" in raw:
        raise BadPathError(f"{ascii(os.fsdecode(raw))} is not a valid path: it contains a NUL byte")
    return raw


def resolve_inside(root: Path, path: str | os.PathLike[str]) -> Path:
    """Return the real path of ``path`` (relative to ``root``, or absolute) if it stays inside ``root``.

    Only for naming a file (where a new one would go, say): the answer can be stale by the time it is
    used. To read, use :func:`open_inside` or :func:`read_text_inside`. Raises WorkspaceError when the
    path, after following symlinks, is outside the workspace, BadPathError when it cannot name a file.
    """
    encode_path(path)
    real_root = Path(os.path.realpath(root))
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = real_root / candidate
    real = Path(os.path.realpath(candidate))
    if real != real_root and not real.is_relative_to(real_root):
        raise WorkspaceError(f"{path} is outside the workspace")
    return real


def open_inside(root: Path, path: str | os.PathLike[str]) -> tuple[int, Path]:
    """Open ``path`` (relative to ``root``, or absolute inside it) for reading without ever following a
    link out of ``root``. Returns the descriptor (the caller closes it) and the file's real path.

    Raises WorkspaceError (outside the workspace, a link loop), NotFoundError (missing) or BadPathError.
    The descriptor may be anything but a symlink (a directory, a FIFO: opened non-blocking); check it.
    """
    raw = encode_path(path)
    real_root = os.fsencode(os.path.realpath(root))
    rel = _relative(raw, real_root, os.fsencode(os.path.abspath(root)))
    if rel is None:
        raise WorkspaceError(f"{path} is outside the workspace")
    try:
        root_fd = os.open(real_root, os.O_RDONLY | os.O_CLOEXEC | os.O_DIRECTORY)
    except OSError as exc:
        raise WorkspaceError(f"workspace root {os.fsdecode(real_root)}: {exc.strerror}") from exc
    try:
        return _open_beneath(root_fd, rel, real_root, os.fsencode(os.path.abspath(root)), path)
    finally:
        os.close(root_fd)


def read_text_inside(root: Path, path: str | os.PathLike[str], limit: int = MAX_READ_BYTES) -> tuple[Path, str]:
    """Read a workspace text file for a client.

    Raises WorkspaceError (outside, too large, binary, not a file), NotFoundError (missing) or
    BadPathError (a NUL byte, a lone surrogate). Invalid UTF-8 is decoded with replacement characters
    rather than refused: the client sees the text.
    """
    fd, real = open_inside(root, path)
    return real, _read_text(fd, path, limit)


def read_text_file(path: str | os.PathLike[str], limit: int = MAX_READ_BYTES) -> str:
    """Read a text file a client named outside any workspace (the LSP: a library's source), with the
    same checks as :func:`read_text_inside` but no confinement: a FIFO or a device is refused, never
    waited on, and the size cap holds even for a file that grows while it is read."""
    raw = encode_path(path)
    try:
        fd = os.open(raw, _OPEN_FLAGS)
    except OSError as exc:
        raise _translate(exc, path) from exc
    return _read_text(fd, path, limit)


def _read_text(fd: int, path: str | os.PathLike[str], limit: int) -> str:
    """Check and read (then close) a descriptor opened for a client."""
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            what = "a file" if stat.S_ISDIR(info.st_mode) else "a regular file"
            raise WorkspaceError(f"{path} is not {what}")
        if info.st_size > limit:
            raise WorkspaceError(f"{path} is {info.st_size} bytes, above the {limit}-byte limit")
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise WorkspaceError(f"{path}: {exc.strerror}") from exc
    finally:
        os.close(fd)
    if size > limit:  # it grew after the fstat
        raise WorkspaceError(f"{path} is above the {limit}-byte limit")
    data = b"".join(chunks)
    if b"\0" in data[:8192]:
        raise WorkspaceError(f"{path} is a binary file")
    return data.decode("utf-8", errors="replace")


# -- the two ways to open beneath a descriptor ---------------------------------------------------------


def _relative(raw: bytes, *roots: bytes) -> bytes | None:
    """``raw`` relative to the root: itself when relative, the part under one of ``roots`` when absolute,
    None when absolute elsewhere. Compared by components, never normalised (``..`` is the walk's job)."""
    if not raw.startswith(b"/"):
        return raw
    parts = [p for p in raw.split(b"/") if p]
    for root in roots:
        root_parts = [p for p in root.split(b"/") if p]
        if parts[:len(root_parts)] == root_parts:
            return b"/".join(parts[len(root_parts):]) or b"."
    return None


def _open_beneath(root_fd: int, rel: bytes, real_root: bytes, given_root: bytes,
                  shown: str | os.PathLike[str]) -> tuple[int, Path]:
    for _attempt in range(3):
        try:
            fd = OPENAT2.open(root_fd, rel or b".")
        except OSError as exc:
            if exc.errno == errno.EAGAIN:  # a rename raced the lookup: the kernel asks to retry
                continue
            if exc.errno == errno.EXDEV:  # out, or an absolute link: the walk tells which
                break
            raise _translate(exc, shown) from exc
        if fd is None:
            break
        return fd, _path_of_fd(fd, real_root, rel)
    return _walk(root_fd, rel, real_root, given_root, shown)


def _path_of_fd(fd: int, real_root: bytes, rel: bytes) -> Path:
    """The real path of what openat2 opened (it resolved the links; /proc knows where it landed)."""
    try:
        found = os.readlink(f"/proc/self/fd/{fd}".encode())
    except OSError:
        found = b""
    if found == real_root or found.startswith(real_root.rstrip(b"/") + b"/"):
        return Path(os.fsdecode(found))
    return Path(os.fsdecode(os.path.normpath(os.path.join(real_root, rel))))


def _walk(root_fd: int, rel: bytes, real_root: bytes, given_root: bytes,
          shown: str | os.PathLike[str]) -> tuple[int, Path]:
    """Open ``rel`` beneath ``root_fd`` one component at a time, never following a link blindly.

    ``stack`` holds the descriptors (and names) of the directories entered below the root, so ``..``
    goes back up by descriptor and cannot climb above the root, whatever is renamed meanwhile.
    """
    stack: list[tuple[bytes, int]] = []
    pending = [p for p in rel.split(b"/") if p][::-1]  # a stack: the next component is last
    links = 0
    try:
        while True:
            if not pending:  # the path ended on a directory (or the root): open it as the result
                pending = [b"."]
            name = pending.pop()
            if name == b".":
                if pending:
                    continue
                fd = os.open(b".", _OPEN_FLAGS, dir_fd=stack[-1][1] if stack else root_fd)
                return fd, _joined(real_root, stack)
            if name == b"..":
                if not stack:
                    raise WorkspaceError(f"{shown} is outside the workspace")
                os.close(stack.pop()[1])
                continue
            here = stack[-1][1] if stack else root_fd
            last = not pending
            try:
                if last:
                    fd = os.open(name, _OPEN_FLAGS | os.O_NOFOLLOW, dir_fd=here)
                    return fd, _joined(real_root, stack, name)
                stack.append((name, os.open(name, _DIR_FLAGS, dir_fd=here)))
                continue
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise _translate(exc, shown) from exc
                opened_error = exc
            try:
                target = os.readlink(name, dir_fd=here)
            except OSError as exc:
                if exc.errno == errno.EINVAL and opened_error.errno == errno.ELOOP:
                    pending.append(name)  # it stopped being a link meanwhile: look again
                    links += 1
                    if links > MAX_SYMLINKS:
                        raise WorkspaceError(f"{shown}: too many symbolic links") from exc
                    continue
                if exc.errno == errno.EINVAL:
                    raise _translate(opened_error, shown) from opened_error
                raise _translate(exc, shown) from exc
            links += 1
            if links > MAX_SYMLINKS:
                raise WorkspaceError(f"{shown}: too many symbolic links")
            if target.startswith(b"/"):
                inner = _relative(target, real_root, given_root)
                if inner is None:
                    raise WorkspaceError(f"{shown} is outside the workspace (a link to "
                                         f"{os.fsdecode(target)})")
                while stack:
                    os.close(stack.pop()[1])
                target = inner
            pending.extend([p for p in target.split(b"/") if p][::-1] or [b"."])
    finally:
        for _name, fd in stack:
            os.close(fd)


def _joined(real_root: bytes, stack: list[tuple[bytes, int]], name: bytes | None = None) -> Path:
    parts = [n for n, _fd in stack] + ([name] if name is not None else [])
    return Path(os.fsdecode(os.path.join(real_root, *parts))) if parts else Path(os.fsdecode(real_root))


def _translate(exc: OSError, shown: str | os.PathLike[str]) -> WorkspaceError | NotFoundError:
    if exc.errno == errno.ENOENT:
        return NotFoundError(f"{shown}: no such file")
    if exc.errno == errno.ELOOP:
        return WorkspaceError(f"{shown}: too many symbolic links")
    if exc.errno == errno.EXDEV:
        return WorkspaceError(f"{shown} is outside the workspace")
    return WorkspaceError(f"{shown}: {exc.strerror or exc}")
