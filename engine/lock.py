"""One writer per workspace index, across processes: an flock'd file holding the writer's PID.

flock is released by the kernel when its holder dies, even by SIGKILL, so a crashed indexer never
leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from .errors import IndexLockedError


class WriterLock:
    def __init__(self, path: Path, root: str) -> None:
        self.path = path
        self.root = root
        self._fd: int | None = None
        self._depth = 0

    def acquire(self, wait: float = 0.0) -> None:
        """Take the lock, waiting up to ``wait`` seconds; raises IndexLockedError naming the holder."""
        if self._fd is not None:
            self._depth += 1
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = self._holder(fd)
                    os.close(fd)
                    raise IndexLockedError(holder, self.root) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        self._depth = 1

    def release(self) -> None:
        if self._fd is None:
            return
        self._depth -= 1
        if self._depth:
            return
        fd, self._fd = self._fd, None
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def holder(self) -> int | None:
        """The PID of a live process holding the lock, or None.

        Read from the PID the holder writes, without taking the lock: probing with flock would make
        a writer starting at that moment fail with "being updated". A holder killed by SIGKILL leaves
        its PID behind; it is not alive (or a zombie), so it is not reported."""
        if self._fd is not None:
            return os.getpid()
        try:
            text = self.path.read_text().strip()
            pid = int(text) if text else None
        except (OSError, ValueError):
            return None
        return pid if pid is not None and _alive(pid) else None

    @staticmethod
    def _holder(fd: int) -> int | None:
        try:
            text = os.pread(fd, 32, 0).decode().strip()
            return int(text) if text else None
        except (OSError, ValueError):
            return None

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True
