"""The Nexus language server (pygls 2): ``create_server()`` builds it, ``nexus lsp`` runs it."""
