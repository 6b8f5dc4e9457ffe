"""Optional model rerank: the top candidates of a file ranking, reordered by a model in one listwise call.

The model sees the request and, per candidate, its path and best evidence (a few lines of its best
chunk), numbered, within a character budget; it answers with the numbers best first. Numbers it leaves
out keep their order after the ones it named; an answer with no usable numbers keeps the ranking as it
was (and says so), so a model can reorder but never lose a candidate. Callers label the result
(``reranked_by``) wherever they report a ranking.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..providers import ProviderRouter, Usage
    from ..workspace import Workspace

log = logging.getLogger(__name__)

RERANK_SYSTEM = (
    "You rank source files by how likely each is the one to change for a request. Answer only with the "
    "candidate numbers, best first, separated by spaces (for example: 3 1 2). Leave out none you can judge.")
TOP = 20
SNIPPET_LINES = 12
BUDGET_CHARS = 24_000


@dataclass(frozen=True, slots=True)
class Reranked:
    paths: list[str]
    reranked_by: str | None  # "provider/model" when the model's order was used, else None
    note: str
    usage: Usage | None = None


def prompt(ws: Workspace, query: str, candidates: list[tuple[str, int]], budget: int = BUDGET_CHARS) -> str:
    """The listwise prompt: numbered candidates (path and evidence lines from ``line``, zero-based)."""
    from ..errors import NotFoundError

    parts = [f"Request: {query.strip()[:2000]}", "", "Candidates:"]
    per = max(200, budget // max(len(candidates), 1))
    for n, (path, line) in enumerate(candidates, 1):
        try:
            lines = ws.text(path).splitlines()
        except NotFoundError:
            lines = []
        snippet = "\n".join(lines[line:line + SNIPPET_LINES])[:per]
        parts.append(f"[{n}] {path}\n{snippet}")
    return "\n".join(parts)


def order(text: str, count: int) -> list[int]:
    """Zero-based candidate indexes from the model's answer, each once, in its order."""
    seen: list[int] = []
    for raw in re.findall(r"\d+", text):
        n = int(raw) - 1
        if 0 <= n < count and n not in seen:
            seen.append(n)
    return seen


async def rerank(router: ProviderRouter, ws: Workspace, query: str, candidates: list[tuple[str, int]],
                 provider: str | None = None, model: str | None = None) -> Reranked:
    """``candidates`` (path, evidence line) reordered by the model; raises ProviderError on a failed call."""
    from ..providers import Request

    top = candidates[:TOP]
    request = Request(prompt=prompt(ws, query, top), system=RERANK_SYSTEM, max_tokens=200, model=model)
    answer = await router.complete(request, role="chat", provider=provider)
    picked = order(answer.text, len(top))
    if not picked:
        log.info("rerank: the model's answer named no candidate: %r", answer.text[:200])
        return Reranked([p for p, _ in candidates], None, "the model's answer named no candidate; order kept",
                        answer.usage)
    rest = [i for i in range(len(top)) if i not in picked]
    paths = [top[i][0] for i in picked + rest] + [p for p, _ in candidates[TOP:]]
    label = f"{answer.usage.provider}/{answer.usage.model}"
    return Reranked(paths, label, f"top {len(top)} reordered by {label}", answer.usage)
