"""Nexus lsp_server."""
