"""``edit.propose`` and ``edit.apply``: every AI edit is a proposal, verified before it is shown, and
reaches the user's files only when the user applies it.

- ``edit.propose``: search-and-replace hunks (``oldText`` must occur exactly once; empty creates a file),
  checked in a scratch overlay (parses, diagnostics not worse, the tests it touches pass); the result is
  the whole-file changes as unified diffs plus the verification ("verified: 3 passed (pytest)" / "not
  verified: why"). Nothing is written.
- ``edit.apply``: the same hunks written to the workspace, refused if any file changed since (nothing is
  written then). Its permission is ``user``: no tool-calling client (MCP, the agent) is ever given it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import difflib
from typing import Annotated

from pydantic import Field

from ..call import Call
from ..codec import WIRE, Bool, PathText, Text
from ..errors import ErrorCode, OperationError
from ..identity import Role
from ..operation import operation
from ..permission import Permission

MAX_EDIT = 1_000_000


@dataclasses.dataclass(frozen=True, slots=True)
class Hunk:
    __pydantic_config__ = WIRE
    path: PathText
    old_text: Annotated[Text, Field(max_length=MAX_EDIT)]  # "" creates the file
    new_text: Annotated[Text, Field(max_length=MAX_EDIT)]


@dataclasses.dataclass(frozen=True, slots=True)
class ProposeParams:
    __pydantic_config__ = WIRE
    edits: Annotated[tuple[Hunk, ...], Field(min_length=1, max_length=100)]
    description: Annotated[Text, Field(max_length=10_000)] = ""
    verify: Bool = True  # run the tests it touches in the overlay


@dataclasses.dataclass(frozen=True, slots=True)
class CheckResult:
    __pydantic_config__ = WIRE
    name: str
    ok: bool
    detail: str


@dataclasses.dataclass(frozen=True, slots=True)
class VerificationResult:
    __pydantic_config__ = WIRE
    verified: bool
    summary: str
    checks: tuple[CheckResult, ...]
    test_output: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class Change:
    __pydantic_config__ = WIRE
    path: str
    created: bool
    diff: str


@dataclasses.dataclass(frozen=True, slots=True)
class Proposal:
    __pydantic_config__ = WIRE
    description: str
    edits: tuple[Hunk, ...]  # send these to edit.apply to accept
    changes: tuple[Change, ...]
    verification: VerificationResult


@operation("edit.propose", params=ProposeParams, result=Proposal, role=Role.DEVELOPER, rate="execute",
           message="edit:propose", permission=Permission.EDIT)
async def propose(call: Call, p: ProposeParams) -> Proposal:
    """An edit proposal, checked in a scratch copy of the workspace (parses, no new problems, its tests pass)."""
    from ..verify import EditConflict, plan_changes, verify

    root = call.backends.workspace.root.resolve()
    try:
        changes = await asyncio.to_thread(plan_changes, root, [(h.path, h.old_text, h.new_text) for h in p.edits])
    except EditConflict as exc:
        raise OperationError(ErrorCode.BAD_REQUEST, str(exc)) from exc
    checked = await verify(root, call.backends.settings, changes, run=p.verify)
    diffs = tuple(Change(c.path, c.before is None, "".join(difflib.unified_diff(
        (c.before or "").splitlines(keepends=True), c.after.splitlines(keepends=True),
        f"a/{c.path}", f"b/{c.path}"))) for c in changes)
    output = checked.tests.output[-4000:] if checked.tests is not None and not checked.tests.ok else ""
    return Proposal(p.description, p.edits, diffs, VerificationResult(
        checked.verified, checked.summary, tuple(CheckResult(c.name, c.ok, c.detail) for c in checked.checks),
        output))


@dataclasses.dataclass(frozen=True, slots=True)
class ApplyParams:
    __pydantic_config__ = WIRE
    edits: Annotated[tuple[Hunk, ...], Field(min_length=1, max_length=100)]


@dataclasses.dataclass(frozen=True, slots=True)
class Applied:
    __pydantic_config__ = WIRE
    paths: tuple[str, ...]


@operation("edit.apply", params=ApplyParams, result=Applied, role=Role.DEVELOPER, rate="execute",
           message="edit:apply", permission=Permission.USER, cancellable=False)
async def apply(call: Call, p: ApplyParams) -> Applied:
    """Write an accepted proposal's edits to the workspace (all or nothing; refused if a file changed since)."""
    from ..verify import EditConflict, apply_changes, plan_changes

    root = call.backends.workspace.root.resolve()

    def write() -> list[str]:
        changes = plan_changes(root, [(h.path, h.old_text, h.new_text) for h in p.edits])
        apply_changes(root, changes)
        return [c.path for c in changes]

    try:
        return Applied(tuple(await asyncio.to_thread(write)))
    except EditConflict as exc:
        raise OperationError(ErrorCode.BAD_REQUEST, str(exc)) from exc
