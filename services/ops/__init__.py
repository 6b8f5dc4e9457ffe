"""One module per operation (or per family); importing this package declares them all."""

from . import (
    ai_agent,
    ai_ask,
    ai_chat,
    ai_commit_message,
    ai_review,
    code_nav,
    contexts,
    diagnostics,
    edits,
    execute,
    files_range,
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
    repo_map,
    search,
    status,
    tests_run,
)

__all__ = ["ai_agent", "ai_ask", "ai_chat", "ai_commit_message", "ai_review", "code_nav", "contexts", "diagnostics",
           "edits", "execute", "files_range", "files_read", "git_blame", "git_diff", "git_log", "git_status", "graph",
           "index", "kernel_variables", "processor_chain", "processor_run", "repo_map", "search", "status",
           "tests_run"]
