"""The one combinator: which Semantics answers a request, how long it gets, and what the index does.

Every semantic feature calls :func:`ask` with its name in ``policy.POLICIES``. The rules, in order:

1. No backend for the language, or it is not ready (starting, given up on): the index answers now.
2. Otherwise the backend is asked, and (``race``) the index answer is prepared alongside in the query
   pool, so falling back costs no extra time. An index answer the file's scopes settle exactly
   (``exact_index_wins``: a parameter, a local) is answered as soon as it is there.
3. The backend's answer within the feature's ``limit`` is the answer. An empty one (or a failure:
   the reason is logged) lets the index answer instead, unless the policy says empty is an answer.
4. Past the limit, the index answers, with one exception: when the index has nothing (``os.pa``
   right after opening, where only the backend knows ``os``), the backend gets ``patience`` more.
   A backend answer that arrives while the index answer is computed still wins.
5. A cancelled request stops the backend's work; an abandoned one (the index answered) lets it
   finish, so its answer fills the caches that serve the next keystroke.

The outcome says who answered and why, and counts per feature are kept for ``nexus/status``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from nexus.engine.errors import NexusError

from .policy import POLICIES, Policy
from .protocol import ABANDONED, BackendUnavailable, Exact, Query, Semantics

if TYPE_CHECKING:
    from ..options import Options

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    value: Any  # the feature's lsprotocol value, or None
    source: str  # the backend's name, "index", or "" (nobody could answer)
    fallback: bool = False  # the index answered although a backend exists (completion: isIncomplete)
    reason: str = ""  # why the backend did not answer, when it did not


class Asker:
    """The combinator with its counters (one per server)."""

    def __init__(self, options: Callable[[], Options]) -> None:
        self._options = options
        self.counts: Counter[str] = Counter()  # "feature:source" and "feature:fallback:why"

    def limit(self, feature: str, policy: Policy) -> float:
        given = self._options().budget(policy.budget_key or feature)
        if given is None and policy.budget_key:
            given = self._options().budget(feature)
        return policy.limit if given is None else given

    async def ask(self, feature: str, q: Query, backend: Semantics | None, index: Semantics) -> Outcome:
        policy = POLICIES[feature]
        index_call = _call(index, policy, q) if policy.index else None
        if backend is None or not backend.ready(q.doc):
            reason = "no backend for this language" if backend is None else f"{backend.name} is not ready"
            return await self._index_only(feature, index_call, backend is not None, reason)
        limit = self.limit(feature, policy)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        backend_task = asyncio.ensure_future(_call(backend, policy, q)())
        index_task = asyncio.ensure_future(index_call()) if index_call is not None and policy.race else None
        try:
            # Wait for the backend within the limit; an exact index answer may end the wait early.
            while not backend_task.done():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                watch: set[asyncio.Future[Any]] = {backend_task}
                if policy.exact_index_wins and index_task is not None and not index_task.done():
                    watch.add(index_task)
                await asyncio.wait(watch, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
                if policy.exact_index_wins and index_task is not None and index_task.done() \
                        and not backend_task.done():
                    exact = _result(index_task, feature, "index")
                    if isinstance(exact, Exact):
                        backend_task.cancel(ABANDONED)
                        return self._done(feature, Outcome(exact.value, "index", reason="settled by the file's scopes"))
            if backend_task.done():
                value, failure = _settled(backend_task, feature, backend.name)
                if failure is None and (not policy.empty_is_no_answer or not _empty(value)):
                    if index_task is not None:
                        index_task.cancel()
                    return self._done(feature, Outcome(value, backend.name))
                reason = failure or f"{backend.name} had no answer"
                if index_call is None:
                    return self._done(feature, Outcome(value, backend.name if failure is None else "", reason=reason))
                found = _unwrap(await _finish(index_task, index_call, feature))
                if _empty(found) and failure is None:
                    return self._done(feature, Outcome(value, backend.name, reason=reason))
                return self._done(feature, Outcome(found, "index", fallback=True, reason=reason))
            reason = f"{backend.name} over its {limit * 1000:.0f} ms limit"
            if index_call is None:
                backend_task.cancel(ABANDONED)
                log.info("%s: %s, and the index cannot answer it", feature, reason)
                return self._done(feature, Outcome(None, "", reason=reason))
            found = _unwrap(await _finish(index_task, index_call, feature))
            if _empty(found) and policy.patience > 0 and not backend_task.done():
                await asyncio.wait({backend_task}, timeout=policy.patience)
            if backend_task.done():  # arrived while the index answer was computed, or with patience
                value, failure = _settled(backend_task, feature, backend.name)
                if failure is None and not _empty(value):
                    return self._done(feature, Outcome(value, backend.name))
            else:
                backend_task.cancel(ABANDONED)
            log.debug("%s: %s: the index answered", feature, reason)
            return self._done(feature, Outcome(found, "index", fallback=True, reason=reason))
        except asyncio.CancelledError:
            backend_task.cancel()
            if index_task is not None:
                index_task.cancel()
            raise

    async def resolve(self, item: types.CompletionItem, backend: Semantics) -> types.CompletionItem | None:
        """completionItem/resolve by the backend that made the item, within the resolve limit."""
        policy = POLICIES["resolve"]
        task = asyncio.ensure_future(backend.resolve(item))
        try:
            await asyncio.wait({task}, timeout=self.limit("resolve", policy))
        except asyncio.CancelledError:
            task.cancel()
            raise
        if not task.done():
            task.cancel(ABANDONED)
            self.counts["resolve:none"] += 1
            return None
        value, _failure = _settled(task, "resolve", backend.name)
        self.counts[f"resolve:{backend.name if value is not None else 'none'}"] += 1
        return value if isinstance(value, types.CompletionItem) else None

    async def _index_only(self, feature: str, index_call: Callable[[], Awaitable[Any]] | None, fallback: bool,
                          reason: str) -> Outcome:
        if index_call is None:
            return self._done(feature, Outcome(None, "", reason=reason))
        found = _unwrap(await _finish(None, index_call, feature))
        return self._done(feature, Outcome(found, "index", fallback=fallback, reason=reason))

    def _done(self, feature: str, outcome: Outcome) -> Outcome:
        self.counts[f"{feature}:{outcome.source or 'none'}"] += 1
        if outcome.reason and outcome.source != "index" or outcome.fallback:
            log.debug("%s answered by %s: %s", feature, outcome.source or "nobody", outcome.reason)
        return outcome

    def status(self) -> dict[str, dict[str, int]]:
        """Who answered, per feature: ``{"definition": {"jedi": 3, "index": 1}}``."""
        out: dict[str, dict[str, int]] = {}
        for key, count in sorted(self.counts.items()):
            feature, source = key.split(":", 1)
            out.setdefault(feature, {})[source] = count
        return out


def _call(semantics: Semantics, policy: Policy, q: Query) -> Callable[[], Awaitable[Any]]:
    method = getattr(semantics, policy.method)
    return lambda: method(q)


async def _finish(task: asyncio.Future[Any] | None, call: Callable[[], Awaitable[Any]], feature: str) -> Any:
    """The index answer (already racing, or started now); a failure is logged and is no answer."""
    future = task if task is not None else asyncio.ensure_future(call())
    try:
        await asyncio.wait({future})
    except asyncio.CancelledError:
        future.cancel()
        raise
    return _result(future, feature, "index")


def _result(future: asyncio.Future[Any], feature: str, who: str) -> Any:
    value, _failure = _settled(future, feature, who)
    return value


def _settled(future: asyncio.Future[Any], feature: str, who: str) -> tuple[Any, str | None]:
    """(value, None) or (None, why it failed): a backend failing is logged with its reason, a bug in
    one with its traceback; either way the user gets the index's answer rather than an error."""
    if future.cancelled():
        return None, f"{who} was cancelled"
    exc = future.exception()
    if exc is None:
        return future.result(), None
    if isinstance(exc, (BackendUnavailable, NexusError)):
        log.info("%s: %s could not answer: %s", feature, who, exc)
        return None, f"{who}: {exc}"
    log.error("%s: %s failed", feature, who, exc_info=exc)
    return None, f"{who} failed: {type(exc).__name__}: {exc}"


def _unwrap(value: Any) -> Any:
    return value.value if isinstance(value, Exact) else value


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, types.CompletionList):
        return not value.items
    if isinstance(value, types.WorkspaceEdit):
        return not value.changes and not value.document_changes
    if isinstance(value, list):
        return not value
    return False
