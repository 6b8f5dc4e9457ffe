"""AI assistant features on top of the providers and the context engine: grounded chat and explain,
edits (fix a diagnostic, add a docstring, write tests, refactor) and inline (fill-in-the-middle)
completion. Every answer carries its receipt: the files and lines the model was shown, and why.

The faces (language server, ``nexus ask``, gateway) build an :class:`AssistRequest` from their
protocol and call :class:`Assistant`; see docs/assistant.md.
"""

from __future__ import annotations

from .assistant import AnswerStream, Assistant, retrieval_answer
from .edits import extract_code, location_of_tests, reindent
from .grounding import Focus, Grounding, enclosing, find_focus, ground
from .model import (
    Answer,
    AssistantError,
    AssistRequest,
    Diagnostic,
    Document,
    EditProposal,
    FileEdit,
    InlineSuggestion,
    NoEditError,
    ReceiptEntry,
    Task,
)
from .prompts import clean_completion, fim_parts
from .settings import AssistantSettings, assistant_settings

__all__ = [
    "Answer", "AnswerStream", "AssistRequest", "Assistant", "AssistantError", "AssistantSettings", "Diagnostic",
    "Document", "EditProposal", "FileEdit", "Focus", "Grounding", "InlineSuggestion", "NoEditError",
    "ReceiptEntry", "Task", "assistant_settings", "clean_completion", "enclosing", "extract_code", "fim_parts",
    "find_focus", "ground", "reindent", "retrieval_answer", "location_of_tests",
]
