"""One module per LSP feature; each has ``register(server)``. The list lives in ``server.FEATURES``."""
