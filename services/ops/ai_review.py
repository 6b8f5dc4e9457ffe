"""``ai.review``: a model's review of the changes against ``ref`` (default HEAD: the uncommitted work;
``A..B`` for a range), grounded in the diff and its graph neighbourhood (the call sites of the
definitions the diff changes), streamed; the result lists the findings with file and line.

The model is asked for one ``path:line: severity: message`` line per finding; lines naming a file that
is neither in the diff nor in the context shown are dropped (a model's invented path is not a finding).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Annotated, Any

from pydantic import Field

from ..call import Call
from ..codec import WIRE, Int, Name
from ..errors import ErrorCode, OperationError
from ..identity import Role
from ..operation import Event, operation
from ._ai import provider_error, report_usage, usage_json
from ._git import repository
from .ai_chat import Delta, Receipt, ReceiptPiece
from .ai_commit_message import indexed_or_none


@dataclasses.dataclass(frozen=True, slots=True)
class ReviewParams:
    __pydantic_config__ = WIRE
    ref: Annotated[str, Field(min_length=1, max_length=256)] = "HEAD"
    provider: Name | None = None
    model: Name | None = None
    max_tokens: Annotated[Int, Field(ge=16, le=32_000)] = 2000


@dataclasses.dataclass(frozen=True, slots=True)
class ReviewFinding:
    __pydantic_config__ = WIRE
    path: str
    line: int  # 1-based, in the file's new version
    severity: str  # error, warning, info
    message: str


@dataclasses.dataclass(frozen=True, slots=True)
class Review:
    __pydantic_config__ = WIRE
    ref: str
    files: tuple[str, ...]  # the changed files reviewed
    findings: tuple[ReviewFinding, ...]
    text: str  # the model's whole answer
    usage: dict[str, Any] | None
    receipt: Receipt


@operation("ai.review", params=ReviewParams, result=Review, role=Role.DEVELOPER, rate="ai", message="ai:review",
           result_message="ai:reviewed", events=(("ai:delta", Delta),))
async def review(call: Call, p: ReviewParams) -> AsyncIterator[Event | Review]:
    """A review of the diff against a ref with its graph neighbourhood; findings with file and line."""
    from nexus.engine.assistant.vcs_tasks import REVIEW_SYSTEM, parse_findings, review_prompt
    from nexus.engine.graph import CodeGraph
    from nexus.engine.providers import ProviderError, Request
    from nexus.engine.providers import Role as ProviderRole
    from nexus.engine.vcs import diff

    router = call.backends.require_providers("Review")
    try:
        router.config.targets(ProviderRole.CHAT, p.provider, p.model, None)
    except ProviderError as exc:
        raise provider_error(exc) from exc
    repo = await repository(call)
    changes = await asyncio.to_thread(diff, repo, ref=p.ref)
    if not changes:
        raise OperationError(ErrorCode.BAD_REQUEST, f"no changes against {p.ref} to review")
    ws = await indexed_or_none(call)
    graph = CodeGraph(ws) if ws is not None else None
    prompt, pieces = await asyncio.to_thread(review_prompt, changes, ws, graph, p.ref)
    try:
        stream = router.stream(Request(prompt=prompt, system=REVIEW_SYSTEM, max_tokens=p.max_tokens, model=p.model),
                               role="chat", provider=p.provider)
        async with stream as answer:
            async for delta in answer:
                yield Event("ai:delta", Delta(delta))
    except ProviderError as exc:
        raise provider_error(exc) from exc
    report_usage(call, answer.usage)
    known = {f.path for f in changes} | {x.path for x in pieces if x.path}
    findings = tuple(ReviewFinding(f.path, f.line, f.severity, f.message)
                     for f in parse_findings(answer.text, known))
    receipt = Receipt(None, sum(x.tokens for x in pieces),
                      tuple(ReceiptPiece(x.path, x.start_line, x.end_line, x.kind, x.reason, x.tokens) for x in pieces))
    yield Review(p.ref, tuple(f.path for f in changes), findings, answer.text, usage_json(answer.usage), receipt)
