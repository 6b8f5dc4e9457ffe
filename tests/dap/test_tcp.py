"""`nexus dap --port`: the same adapter over TCP, one independent session per connection."""

from __future__ import annotations

import asyncio
import signal
import sys

from .client import TIMEOUT, DapClient


async def run_code(port: int, code: str) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    dap = DapClient(reader, writer)
    await dap.initialize()
    launched = dap.send("launch", {"code": code})
    await dap.wait_event("initialized")
    await dap.ok("configurationDone")
    assert (await launched)["success"] is True
    assert (await dap.wait_event("exited"))["body"]["exitCode"] == 0
    await dap.ok("disconnect", {})
    await dap.closed.wait()  # the adapter closes the connection after disconnect
    await dap.close()
    return dap.output("stdout")


async def test_two_clients_over_tcp() -> None:
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nexus.cli", "dap", "--port", "0", stdout=asyncio.subprocess.PIPE
    )
    assert server.stdout is not None
    try:
        line = (await asyncio.wait_for(server.stdout.readline(), TIMEOUT)).decode()
        assert line.startswith("listening on 127.0.0.1:"), line
        port = int(line.rsplit(":", 1)[1])
        outputs = await asyncio.gather(run_code(port, "print('first')"), run_code(port, "print('second')"))
        assert "first" in outputs[0] and "second" in outputs[1]
    finally:
        server.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(server.wait(), TIMEOUT) == 0
