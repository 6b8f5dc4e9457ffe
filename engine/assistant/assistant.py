"""The assistant: grounded answers, edits and inline completions on top of the provider router.

    assistant = Assistant.from_settings(root=workspace_root)
    async with assistant.answer(ws, AssistRequest(Task.CHAT, "why does start() fail?")) as stream:
        async for delta in stream:
            show(delta)
    stream.result   # Answer: text, receipt (files, lines, why), provider, model, usage, generated

    proposal = await assistant.propose_edit(ws, AssistRequest(Task.DOCSTRING, document=doc, cursor=(12, 4)))
    proposal.edits  # FileEdit values to apply
    suggestion = await assistant.suggest(ws, AssistRequest(Task.INLINE, document=doc, cursor=(3, 8)))

Without a configured provider, :meth:`Assistant.answer` still answers, retrieval-only: the most
relevant code from the index, labelled as not model-generated (``Answer.generated`` is False); edits
raise NoProviderError saying how to configure one; :meth:`Assistant.suggest` returns None.
Closing an answer stream (or cancelling the task reading it) closes the upstream model request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from nexus.engine.config import Settings, load_settings
from nexus.engine.context import counter_for
from nexus.engine.errors import NotFoundError
from nexus.engine.languages import language_for
from nexus.engine.paths import read_text_inside
from nexus.engine.providers import NoProviderError, ProviderError, ProviderRouter, Request
from nexus.engine.streams import DeltaStream
from nexus.engine.workspace import Workspace

from .edits import edit_for_tests, location_of_tests, replacement
from .grounding import ContextCache, Focus, Grounding, ground, require_focus
from .model import (
    Answer,
    AssistantError,
    AssistRequest,
    Document,
    EditProposal,
    InlineSuggestion,
    ReceiptEntry,
    Task,
)
from .prompts import SYSTEM, clean_completion, fim_message, fim_parts, user_message
from .settings import AssistantSettings, assistant_settings

log = logging.getLogger(__name__)

RunSync = Callable[..., Awaitable[Any]]
RETRIEVAL_LINES = 40  # lines of each piece a retrieval-only answer shows
HOW_TO_CONFIGURE = (
    "To get answers from a model, configure a provider: set ANTHROPIC_API_KEY, OPENAI_API_KEY or "
    "GEMINI_API_KEY, or NEXUS_LOCAL_BASE_URL and NEXUS_LOCAL_MODEL for a local server (Ollama, llama.cpp, "
    "vLLM, LM Studio); see docs/providers.md."
)
RETRIEVAL_HEADER = ("**Not model-generated:** no AI provider is configured, so this is the code in the "
                    "workspace most relevant to your request, found by search.")


class AnswerStream(DeltaStream[Answer]):
    """An answer being streamed: iterate it for text deltas; afterwards :attr:`result` is the
    :class:`Answer` (with the receipt). Closing it stops the upstream request."""

    def __init__(self, source: AsyncGenerator[str | Answer, None]) -> None:
        super().__init__(source, Answer)

    @property
    def result(self) -> Answer | None:
        return self.final

    async def collect(self) -> Answer:
        answer = await self.drain()
        if answer is None:
            raise AssistantError("the answer was closed before it finished")
        return answer


class Assistant:
    """One per process (or per language server). ``run_sync`` runs the blocking grounding work (index
    reads, parsing); the language server passes its query pool, others get ``asyncio.to_thread``."""

    def __init__(self, router: ProviderRouter, settings: AssistantSettings | None = None, *,
                 run_sync: RunSync | None = None) -> None:
        self.router = router
        self.settings = settings or AssistantSettings()
        self._run_sync: RunSync = run_sync or asyncio.to_thread
        self.inline_cache = ContextCache()

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, root: Path | None = None,
                      env: Mapping[str, str] | None = None, run_sync: RunSync | None = None) -> Assistant:
        """Providers from ``[providers]`` and the environment, budgets from ``[assistant]``. Raises
        ConfigError naming a bad key."""
        settings = settings if settings is not None else load_settings(root, env)
        return cls(ProviderRouter.from_settings(settings, env=env), assistant_settings(settings), run_sync=run_sync)

    @property
    def available(self) -> bool:
        """True when a provider is configured: answers are generated, edits and completions work."""
        return self.router.available

    async def aclose(self) -> None:
        await self.router.aclose()

    def _uses_model(self, request: AssistRequest) -> bool:
        return self.available or request.provider is not None

    def _model_for(self, request: AssistRequest) -> str | None:
        """The model the request will go to first (it picks the tokenizer), or None without one."""
        try:
            return self.router.config.targets(request.task.role, request.provider, request.model)[0].model
        except ProviderError:
            return None

    async def ground(self, ws: Workspace | None, request: AssistRequest, *, preset: Focus | None = None,
                     extra_budget: int = 0) -> Grounding:
        """The focus and workspace context the model would see for ``request`` (and their receipt)."""
        model = self._model_for(request)
        budget = (request.budget or self.settings.budget(request.task)) + extra_budget
        found: Grounding = await self._run_sync(ground, ws, request, budget, counter_for(model), model, None, preset)
        return found

    # -- answers ---------------------------------------------------------------------------------

    def answer(self, ws: Workspace | None, request: AssistRequest) -> AnswerStream:
        """Stream the answer to a chat or explain request. Iterating raises AssistantError for a bad
        request, NoProviderError when a named provider is not configured, and the provider layer's
        errors (StreamInterruptedError carries the partial text)."""
        if request.task not in (Task.CHAT, Task.EXPLAIN):
            raise AssistantError(f"{request.task.label} is not answered as text: use propose_edit or suggest")
        if request.task is Task.CHAT and not request.question.strip():
            raise AssistantError("ask a question: the prompt is empty")
        return AnswerStream(self._answer(ws, request))

    async def _answer(self, ws: Workspace | None, request: AssistRequest) -> AsyncGenerator[str | Answer, None]:
        grounding = await self.ground(ws, request)
        if not self._uses_model(request):
            text, entries = retrieval_answer(grounding, self.settings.retrieval_pieces)
            yield text
            yield Answer(text, entries, generated=False, context_tokens=sum(e.tokens for e in entries))
            return
        model_request = Request(prompt=user_message(request, grounding), system=SYSTEM[request.task],
                                max_tokens=self.settings.max_tokens(request.task))
        async with self.router.stream(model_request, role=request.task.role, provider=request.provider,
                                      model=request.model) as stream:
            async for delta in stream:
                yield delta
        usage = stream.usage
        assert usage is not None
        yield Answer(stream.text, grounding.receipt, True, usage.provider, usage.model, usage, grounding.tokens)

    # -- edits -----------------------------------------------------------------------------------

    async def propose_edit(self, ws: Workspace | None, request: AssistRequest) -> EditProposal:
        """Ask the model for an edit (fix, docstring, tests, refactor) and turn its answer into edits.

        Raises NoProviderError without a provider, AssistantError when there is nothing to work on,
        NoEditError when the answer holds no usable code, and the provider layer's errors.
        """
        task = request.task
        if not task.edits:
            raise AssistantError(f"{task.label} does not edit code")
        if request.document is None:
            raise AssistantError(f"{task.label} needs a document")
        if not self._uses_model(request):
            raise NoProviderError(f"{task.label} needs a model")
        grounding = await self.ground(ws, request)
        focus = require_focus(grounding, task)
        test_path: str | None = None
        existing: str | None = None
        if task is Task.TESTS:
            test_path, existing = await self._run_sync(_tests_target, ws, request.document)
        model_request = Request(prompt=user_message(request, grounding, test_path), system=SYSTEM[task],
                                max_tokens=self.settings.max_tokens(task))
        async with self.router.stream(model_request, role=task.role, provider=request.provider,
                                      model=request.model) as stream:
            async for _ in stream:
                pass
        usage = stream.usage
        assert usage is not None
        answer = Answer(stream.text, grounding.receipt, True, usage.provider, usage.model, usage, grounding.tokens)
        if task is Task.TESTS:
            assert test_path is not None
            edit, note = edit_for_tests(test_path, stream.text, existing)
        else:
            edit, note = replacement(focus, stream.text, request.document.text)
        return EditProposal(task, (edit,), answer, note)

    # -- inline completion -----------------------------------------------------------------------

    async def suggest(self, ws: Workspace | None, request: AssistRequest) -> InlineSuggestion | None:
        """Ghost text for the cursor of ``request.document``, or None when there is no provider or the
        model offers nothing. Raises the provider layer's errors."""
        doc, cursor = request.document, request.cursor
        if doc is None or cursor is None:
            raise AssistantError("inline completion needs a document and a cursor")
        if not self._uses_model(request):
            return None
        model = self._model_for(request)
        counter = counter_for(model)
        settings = self.settings

        def prepare() -> tuple[Any, Grounding]:
            offset = _char_offset(doc.text, cursor)
            parts = fim_parts(doc.text, offset, counter.count, settings.inline_prefix_tokens,
                              settings.inline_suffix_tokens)
            focus = Focus(doc.path, parts.first_row, parts.last_row, parts.prefix + parts.suffix, "cursor",
                          "the code before and after the cursor", parts.tokens)
            budget = (request.budget or settings.inline_budget) + parts.tokens
            return parts, ground(ws, request, budget, counter, model, "", focus, self.inline_cache)

        parts, grounding = await self._run_sync(prepare)
        model_request = Request(prompt=fim_message(doc.path, doc.language, parts, grounding),
                                system=SYSTEM[Task.INLINE], max_tokens=settings.inline_max_tokens)
        async with self.router.stream(model_request, role=Task.INLINE.role, provider=request.provider,
                                      model=request.model) as stream:
            async for _ in stream:
                pass
        text = clean_completion(stream.text, parts.prefix, parts.suffix)
        if not text:
            return None
        return InlineSuggestion(text, grounding.receipt, stream.usage)


def _char_offset(text: str, cursor: tuple[int, int]) -> int:
    """The str index of (row, UTF-8 byte column), clamped into the text."""
    row, col = cursor
    start = 0
    for _ in range(row):
        found = text.find("\n", start)
        if found < 0:
            return len(text)
        start = found + 1
    end = text.find("\n", start)
    line = text[start:] if end < 0 else text[start:end]
    head = line.encode("utf-8", "surrogatepass")[:max(col, 0)].decode("utf-8", "ignore")
    return start + len(head)


def _tests_target(ws: Workspace | None, doc: Document) -> tuple[str, str | None]:
    """Where the tests for ``doc`` go and, when that file exists, its text."""
    has_tests = ws is not None and doc.in_workspace and (ws.root / "tests").is_dir()
    path = location_of_tests(doc.path, doc.language, has_tests)
    if ws is not None and doc.in_workspace:
        try:  # beneath the root's descriptor: a link swapped in cannot lead out (WorkspaceError)
            return path, read_text_inside(ws.root, path)[1]
        except NotFoundError:
            return path, None
    try:
        return path, Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return path, None
    except (OSError, UnicodeDecodeError) as exc:
        raise AssistantError(f"cannot read {path} to add the tests to it: {exc}") from exc


def retrieval_answer(grounding: Grounding, limit: int) -> tuple[str, tuple[ReceiptEntry, ...]]:
    """A retrieval-only answer (no model): the best pieces of the grounding, labelled as such."""
    candidates = [p for p in grounding.pieces if p.kind in ("chunk", "definition", "file", "cursor")]
    chosen = sorted(candidates, key=lambda p: -p.score)[:limit]
    lines = [RETRIEVAL_HEADER, "", HOW_TO_CONFIGURE, ""]
    if not chosen:
        why = f" ({grounding.note})" if grounding.note else ""
        lines.append(f"Nothing in the workspace index matched this request{why}.")
    entries = []
    for piece in chosen:
        rows = piece.text.rstrip("\n").split("\n")
        blank = next((i for i, r in enumerate(rows) if r.strip()), 0)  # leading blank lines say nothing
        rows = rows[blank:]
        shown = rows[:RETRIEVAL_LINES]
        start = piece.start_line + blank
        entry = ReceiptEntry(piece.path, start, start + len(shown) - 1, piece.kind, piece.reason, piece.tokens)
        entries.append(entry)
        fence = "````" if any(r.lstrip().startswith("```") for r in shown) else "```"
        lines += [f"### {entry.label()}", f"_{piece.reason}_", "", fence + (language_for(piece.path) or ""),
                  *shown]
        if len(rows) > len(shown):
            lines.append(f"… {len(rows) - len(shown)} more lines")
        lines += [fence, ""]
    return "\n".join(lines).rstrip() + "\n", tuple(entries)
