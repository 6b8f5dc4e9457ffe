"""One module per operation; importing this package declares them all (see ``nexus.services.operation``)."""

from . import files_read, graph, index, search, status

__all__ = ["files_read", "graph", "index", "search", "status"]
