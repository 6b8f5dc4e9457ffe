"""One module per operation (or per family); importing this package declares them all."""

from . import (
    ai_chat,
    collab,
    contexts,
    execute,
    files_read,
    graph,
    index,
    kernel_variables,
    processor_chain,
    processor_run,
    search,
    status,
)

__all__ = ["ai_chat", "collab", "contexts", "execute", "files_read", "graph", "index", "kernel_variables", "processor_chain",
           "processor_run", "search", "status"]
