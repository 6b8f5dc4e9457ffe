"""Registers ``nexus lsp`` with jupyter-lsp (entry point group ``jupyter_lsp_spec_v1``), so JupyterLab's
language server client uses Nexus for completion, hover, go-to-definition and diagnostics in notebooks
and files of the five languages Nexus indexes.

jupyter-lsp starts the server itself (stdio) with this ``argv``: the same interpreter as the Jupyter
server, so the ``nexus`` package it runs is the one installed next to the extension. The spec version
must be 2 (jupyter-lsp 2.x refuses specs of other versions).
"""

from __future__ import annotations

import sys
from typing import Any

SPEC_VERSION = 2
LANGUAGES = ["python", "javascript", "typescript", "java", "c++"]
MIME_TYPES = [
    "text/python", "text/x-ipython", "text/x-python",
    "text/javascript", "application/javascript", "text/x-javascript",
    "text/typescript", "application/typescript", "text/x-typescript",
    "text/x-java", "text/x-java-source",
    "text/x-c++src", "text/x-c++hdr",
]


def spec(manager: Any = None) -> dict[str, dict[str, Any]]:
    """jupyter-lsp calls this with its LanguageServerManager; returns ``{"nexus": <spec>}``."""
    return {
        "nexus": {
            "argv": [sys.executable, "-m", "nexus.cli", "lsp"],
            "languages": list(LANGUAGES),
            "version": SPEC_VERSION,
            "display_name": "Nexus",
            "mime_types": list(MIME_TYPES),
            "env": {"PYTHONUNBUFFERED": "1"},
            "install": {"pip": "pip install nexus-ide"},
            "urls": {"home": "https://pypi.org/project/nexus-ide/"},
        }
    }
