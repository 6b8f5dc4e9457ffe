"""One module per operation (or per family); importing this package declares them all."""

from . import (
    ai_chat,
    ai_commit_message,
    ai_review,
    contexts,
    execute,
    files_read,
    git_blame,
    git_diff,
    git_log,
    git_status,
    graph,
    index,
    kernel_variables,
    processor_chain,
    processor_run,
    search,
    status,
)

__all__ = ["ai_chat", "ai_commit_message", "ai_review", "contexts", "execute", "files_read", "git_blame", "git_diff",
           "git_log", "git_status", "graph", "index", "kernel_variables", "processor_chain",
           "processor_run", "search", "status"]
