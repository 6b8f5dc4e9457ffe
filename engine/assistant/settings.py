"""The ``[assistant]`` settings section (``NEXUS_ASSISTANT_*`` in the environment): how much workspace
context each kind of request may send, how long answers may be, and how inline completion behaves."""

from __future__ import annotations

from dataclasses import dataclass

from nexus.engine.config import Settings
from nexus.engine.errors import ConfigError

from .model import Task


@dataclass(frozen=True, slots=True)
class AssistantSettings:
    # Context tokens (workspace code sent with the request), per role.
    chat_budget: int = 12_000
    edit_budget: int = 8_000
    inline_budget: int = 1_500
    # Longest answer asked of the model, per role.
    chat_max_tokens: int = 2_048
    edit_max_tokens: int = 4_096
    inline_max_tokens: int = 128
    # Inline completion: the text before and after the cursor sent as prefix and suffix (tokens).
    inline_prefix_tokens: int = 1_500
    inline_suffix_tokens: int = 400
    # Wait this long after an automatic inline request before calling the model: a keystroke in
    # between cancels it, so fast typing costs no model calls. Explicit requests are not delayed.
    inline_debounce_ms: int = 75
    # Without a provider, answers show this many pieces of the most relevant code.
    retrieval_pieces: int = 6

    def __post_init__(self) -> None:
        for name in ("chat_budget", "edit_budget", "inline_budget", "chat_max_tokens", "edit_max_tokens",
                     "inline_max_tokens", "inline_prefix_tokens", "retrieval_pieces"):
            if getattr(self, name) < 1:
                raise ConfigError(f"assistant.{name} must be at least 1")
        if self.inline_suffix_tokens < 0 or self.inline_debounce_ms < 0:
            raise ConfigError("assistant.inline_suffix_tokens and assistant.inline_debounce_ms must be >= 0")

    def budget(self, task: Task) -> int:
        if task is Task.INLINE:
            return self.inline_budget
        return self.edit_budget if task.edits else self.chat_budget

    def max_tokens(self, task: Task) -> int:
        if task is Task.INLINE:
            return self.inline_max_tokens
        return self.edit_max_tokens if task.edits else self.chat_max_tokens


def assistant_settings(settings: Settings) -> AssistantSettings:
    """The typed ``[assistant]`` section; raises ConfigError naming the key on a bad value."""
    return settings.section("assistant", AssistantSettings)
