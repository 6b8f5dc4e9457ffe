"""``ai.commit_message``: a commit message for the staged changes, streamed, grounded in the staged diff,
the project's recent subjects and the definitions the diff touches, with its receipt.

Nothing staged is ``bad_request`` (say what to do: ``git add``); no repository is ``unavailable``. The
model's text arrives as ``ai:delta`` items, then ``ai:done`` with the whole message. Nexus never commits.
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


@dataclasses.dataclass(frozen=True, slots=True)
class CommitMessageParams:
    __pydantic_config__ = WIRE
    provider: Name | None = None
    model: Name | None = None
    max_tokens: Annotated[Int, Field(ge=16, le=8192)] = 400


@dataclasses.dataclass(frozen=True, slots=True)
class CommitMessage:
    __pydantic_config__ = WIRE
    message: str
    files: tuple[str, ...]  # the staged files it describes
    usage: dict[str, Any] | None
    receipt: Receipt


@operation("ai.commit_message", params=CommitMessageParams, result=CommitMessage, role=Role.DEVELOPER, rate="ai",
           message="ai:commit-message", result_message="ai:done", events=(("ai:delta", Delta),))
async def commit_message(call: Call, p: CommitMessageParams) -> AsyncIterator[Event | CommitMessage]:
    """A commit message for the staged diff, streamed, with what the model was shown."""
    from nexus.engine.assistant.vcs_tasks import COMMIT_SYSTEM, commit_prompt
    from nexus.engine.providers import ProviderError, Request
    from nexus.engine.providers import Role as ProviderRole
    from nexus.engine.vcs import diff, log_commits

    router = call.backends.require_providers("Commit messages")
    try:
        router.config.targets(ProviderRole.CHAT, p.provider, p.model, None)
    except ProviderError as exc:
        raise provider_error(exc) from exc
    repo = await repository(call)
    staged = await asyncio.to_thread(diff, repo, staged=True)
    if not staged:
        raise OperationError(ErrorCode.BAD_REQUEST, "nothing is staged: `git add` the changes to describe first")
    head = await asyncio.to_thread(repo.head)
    recent = (await asyncio.to_thread(log_commits, repo, "HEAD", None, 10))[0] if head.commit else []
    ws = await indexed_or_none(call)
    prompt, pieces = await asyncio.to_thread(commit_prompt, staged, recent, ws)
    try:
        stream = router.stream(Request(prompt=prompt, system=COMMIT_SYSTEM, max_tokens=p.max_tokens, model=p.model),
                               role="chat", provider=p.provider)
        async with stream as answer:
            async for delta in answer:
                yield Event("ai:delta", Delta(delta))
    except ProviderError as exc:
        raise provider_error(exc) from exc
    report_usage(call, answer.usage)
    receipt = Receipt(None, sum(piece.tokens for piece in pieces),
                      tuple(ReceiptPiece(x.path, x.start_line, x.end_line, x.kind, x.reason, x.tokens) for x in pieces))
    yield CommitMessage(answer.text.strip(), tuple(f.path for f in staged), usage_json(answer.usage), receipt)


async def indexed_or_none(call: Call) -> Any:
    """The workspace when it has an index (the definitions and the graph come from it), else None."""
    handle = call.backends.workspace
    ws = await handle.get()
    return ws if await asyncio.to_thread(handle.fresh, ws) else None
