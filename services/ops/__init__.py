"""One module per operation (or per family); importing this package declares them all."""

from . import (
    ai_chat,
    contexts,
    execute,
    files_read,
    graph,
    index,
    kernel_variables,
    processor_chain,
    processor_run,
    repo_map,
    search,
    status,
)

__all__ = ["ai_chat", "contexts", "execute", "files_read", "graph", "index", "kernel_variables", "processor_chain",
           "processor_run", "repo_map", "search", "status"]
