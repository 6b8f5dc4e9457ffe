"""The ``nexus`` jupyter-server extension: the Nexus API inside every Jupyter server.

Enabled on install by ``etc/jupyter/jupyter_server_config.d/nexus.json``; configured like any Jupyter
extension (``jupyter_server_config.py``, or ``--NexusExtension.root_dir=...`` on the command line).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Dict, Float, Int, Unicode

from nexus.services.wire import SessionLimits

from .handlers import HANDLERS
from .services import Limits, NexusServices
from .websocket import NexusWebSocket

log = logging.getLogger(__name__)


class NexusExtension(ExtensionApp):
    """Nexus: workspace files, search, code execution, AI providers, over REST and a WebSocket."""

    name = "nexus"
    load_other_extensions = True

    root_dir = Unicode(
        "", config=True,
        help="Workspace served by the Nexus API (files, search, index). Default: the server's root_dir.")
    nexus_config = Dict(
        config=True,
        help="Nexus settings in nexus.toml's shape, over nexus.toml, .nexus.toml and NEXUS_* variables, e.g. "
             "{'providers': {'order': ['local']}, 'local': {'base_url': 'http://localhost:11434/v1', "
             "'model': 'qwen2.5-coder:7b'}, 'kernels': {'max_output_bytes': 200000}}.")
    execute_timeout = Float(
        0.0, config=True,
        help="Seconds an execution may run when the request gives no timeout; 0: kernels.timeout_seconds (30).")
    max_execute_timeout = Float(3600.0, config=True, help="The longest timeout a request may ask for, in seconds.")
    max_concurrent = Int(16, config=True, help="Requests running at once on one WebSocket; more get `busy`.")
    max_message_bytes = Int(4 * 1024 * 1024, config=True,
                            help="Largest inbound WebSocket frame; a larger one closes the socket (1009).")
    send_window_bytes = Int(1024 * 1024, config=True,
                            help="Replies waiting for a slow WebSocket reader before handlers pause.")
    send_timeout = Float(30.0, config=True,
                         help="Seconds a WebSocket client may read nothing while replies wait before it is dropped.")
    idle_timeout = Float(3600.0, config=True,
                         help="Seconds a WebSocket with no message and nothing running stays open.")

    def initialize_settings(self) -> None:
        assert self.serverapp is not None
        server = self.serverapp
        root = Path(self.root_dir or server.root_dir).expanduser()
        limits = Limits(
            execute_timeout=self.execute_timeout,
            max_execute_timeout=self.max_execute_timeout,
            session=SessionLimits(max_concurrent=self.max_concurrent, send_window_bytes=self.send_window_bytes,
                                  send_timeout=self.send_timeout, idle_timeout=self.idle_timeout),
            max_message_bytes=self.max_message_bytes,
        )
        services = NexusServices.create(root, self.nexus_config, server.kernel_manager, server.kernel_spec_manager,
                                        limits)
        self.settings["nexus_services"] = services
        self.log.info("Nexus API at %snexus/api/ for workspace %s", server.base_url, services.root)

    def initialize_handlers(self) -> None:
        self.handlers.extend(HANDLERS)
        self.handlers.append((r"/nexus/api/ws", NexusWebSocket))

    async def stop_extension(self) -> None:
        services: Any = self.settings.get("nexus_services")
        if services is not None:
            await services.aclose()
