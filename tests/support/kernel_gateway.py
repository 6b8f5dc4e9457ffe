"""A real Jupyter Kernel Gateway on 127.0.0.1 with an auth token, for tests of remote kernels."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Gateway:
    url: str
    token: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_gateway(token: str = "test-token", timeout: float = 60.0) -> Iterator[Gateway]:
    """Start ``jupyter-kernelgateway`` and yield once it logs that it is listening; stop it afterwards."""
    port = free_port()
    runtime = tempfile.mkdtemp(prefix="nexus-kg-")
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=runtime, JUPYTER_DATA_DIR=runtime)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kernel_gateway",
            "--KernelGatewayApp.ip=127.0.0.1",
            f"--KernelGatewayApp.port={port}",
            f"--KernelGatewayApp.auth_token={token}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    ready = threading.Event()
    lines: list[str] = []

    def watch() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "is available at" in line:
                ready.set()
        ready.set()  # exited: let the waiter see it

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        if not ready.wait(timeout) or process.poll() is not None:
            raise RuntimeError("kernel gateway did not start:\n" + "".join(lines[-20:]))
        yield Gateway(f"http://127.0.0.1:{port}", token)
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        watcher.join(10)
        if process.stdout is not None:
            process.stdout.close()
        shutil.rmtree(runtime, ignore_errors=True)
