"""The ACP face: one Nexus agent run per ``session/prompt``, its text and tool calls as session updates.

- ``session/new``: a session over the workspace at ``cwd`` (its own backends: index, providers, kernels
  when allowed); earlier prompts and answers of the session are the next prompt's history.
- ``session/prompt``: the agent loop (``nexus.services.agent``); the model's text is
  ``agent_message_chunk``, each tool call a ``tool_call`` (completed or failed, with its receipt as raw
  output). Tools above the allowed level (``--allow``, default ``edit``) are offered and run only after
  ``session/request_permission`` says yes. Each proposed edit is shown as a diff with its verification
  in a permission request; only "Apply" writes it (``edit.apply``).
- ``session/cancel``: stops the run (the model's stream and the running tool); the prompt ends
  ``cancelled``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from pathlib import Path
from typing import Any

from acp import PROTOCOL_VERSION, RequestError, run_agent
from acp.helpers import start_tool_call, tool_content, tool_diff_content, update_agent_message_text, update_tool_call
from acp.schema import (
    AgentCapabilities,
    AllowedOutcome,
    Implementation,
    InitializeResponse,
    NewSessionResponse,
    PermissionOption,
    PromptResponse,
    ToolCallUpdate,
)

from nexus.engine.config import load_settings
from nexus.services import Backends, Call, OperationError, Permission, Registry
from nexus.services.agent import AgentOutcome, StepReceipt
from nexus.services.agent import run_agent as run_nexus_agent
from nexus.services.tools import Tool

log = logging.getLogger(__name__)

KINDS = {"search": "search", "files.read": "read", "files.range": "read", "graph": "search", "repo.map": "read",
         "diagnostics": "read", "status": "read", "context.get": "read", "edit.propose": "edit",
         "tests.run": "execute", "execute": "execute", "kernel.variables": "read"}
STOPS = {"answered": "end_turn", "max_steps": "max_turn_requests", "max_tokens": "max_tokens",
         "wall_time": "max_turn_requests", "loop": "max_turn_requests", "error": "end_turn"}
ALLOW = [PermissionOption(option_id="allow", name="Allow", kind="allow_once"),
         PermissionOption(option_id="reject", name="Reject", kind="reject_once")]
APPLY = [PermissionOption(option_id="apply", name="Apply", kind="allow_once"),
         PermissionOption(option_id="discard", name="Discard", kind="reject_once")]


@dataclasses.dataclass(slots=True)
class Session:
    id: str
    backends: Backends
    history: list[Any] = dataclasses.field(default_factory=list)
    running: asyncio.Task[Any] | None = None


class NexusAcpAgent:
    def __init__(self, allow: Permission = Permission.EDIT, registry: Registry | None = None) -> None:
        self.allow = allow
        self.registry = registry or Registry.default()
        self.sessions: dict[str, Session] = {}
        self.conn: Any = None

    def on_connect(self, conn: Any) -> None:
        self.conn = conn

    async def initialize(self, protocol_version: int, client_capabilities: Any = None, client_info: Any = None,
                         **kwargs: Any) -> InitializeResponse:
        return InitializeResponse(protocol_version=PROTOCOL_VERSION,
                                  agent_capabilities=AgentCapabilities(load_session=False),
                                  agent_info=Implementation(name="nexus", title="Nexus", version=_version()))

    async def authenticate(self, method_id: str, **kwargs: Any) -> None:
        return None

    async def new_session(self, cwd: str, additional_directories: Any = None, mcp_servers: Any = None,
                          **kwargs: Any) -> NewSessionResponse:
        root = Path(cwd)
        if not root.is_absolute() or not root.is_dir():
            raise RequestError.invalid_params({"cwd": f"{cwd} is not an absolute path to a folder"})
        root = root.resolve()
        session = Session(uuid.uuid4().hex, Backends.open(root, load_settings(root)))
        # Code runs only when allowed, or after a permission request says yes.
        from nexus.services.kernels_executor import KernelsExecutor

        session.backends.executor, session.backends.kernels_problem = KernelsExecutor.from_settings(
            session.backends.settings, root)
        self.sessions[session.id] = session
        return NewSessionResponse(session_id=session.id)

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        session = self.sessions.get(session_id)
        if session is not None and session.running is not None:
            session.running.cancel()

    async def prompt(self, session_id: str, prompt: list[Any], **kwargs: Any) -> PromptResponse:
        session = self.sessions.get(session_id)
        if session is None:
            raise RequestError.invalid_params({"sessionId": f"unknown session {session_id!r}"})
        if session.running is not None and not session.running.done():
            raise RequestError.invalid_request({"sessionId": "a prompt is already running in this session"})
        text = "\n".join(getattr(block, "text", "") for block in prompt if getattr(block, "type", "") == "text")
        if not text.strip():
            raise RequestError.invalid_params({"prompt": "the prompt has no text"})
        session.running = asyncio.ensure_future(self._run(session, text))
        try:
            reason = await session.running
        except asyncio.CancelledError:
            if asyncio.current_task() is not None and asyncio.current_task().cancelling():  # type: ignore[union-attr]
                raise
            return PromptResponse(stop_reason="cancelled")
        finally:
            session.running = None
        return PromptResponse(stop_reason=reason)

    async def _run(self, session: Session, text: str) -> str:
        from nexus.engine.providers import Message

        call = Call(session.backends)
        router = session.backends.require_providers("the agent")
        outcome = AgentOutcome()
        items = run_nexus_agent(call, self.registry, router, text, allow=self.allow, history=tuple(session.history),
                                approver=lambda tool, args: self._approve(session, tool, args),
                                ask=Permission.EXECUTE)
        try:
            async for item in items:
                if isinstance(item, AgentOutcome):
                    outcome = item
                elif item.kind == "agent:delta":
                    await self.conn.session_update(session.id, update_agent_message_text(item.data["text"]))
                else:
                    await self._report_step(session, item.data)
        finally:
            await items.aclose()  # type: ignore[attr-defined]
        if outcome.error is not None:
            await self.conn.session_update(session.id, update_agent_message_text(
                f"\n\n(stopped: {outcome.error['message']})"))
        for proposal in outcome.proposals:
            await self._offer(session, proposal)
        session.history += [Message("user", text), Message("assistant", outcome.answer or "(no answer)")]
        return STOPS.get(outcome.stop_reason, "end_turn")

    async def _report_step(self, session: Session, step: StepReceipt) -> None:
        call_id = f"step-{step.index}-{uuid.uuid4().hex[:8]}"
        kind: Any = KINDS.get(step.operation, "other")
        await self.conn.session_update(session.id, start_tool_call(
            call_id, f"{step.tool} {_short(step.arguments)}", kind=kind, status="in_progress",
            raw_input=step.arguments))
        await self.conn.session_update(session.id, update_tool_call(
            call_id, status="completed" if step.ok else "failed",
            content=[tool_content(_text(step.summary))], raw_output=dataclasses.asdict(step)))

    async def _approve(self, session: Session, tool: Tool, arguments: dict[str, Any]) -> bool:
        """Ask the client before a tool above the allowed level runs."""
        update = ToolCallUpdate(tool_call_id=f"ask-{uuid.uuid4().hex[:8]}", title=f"{tool.name} {_short(arguments)}",
                                kind=KINDS.get(tool.operation.name, "other"), status="pending",  # type: ignore[arg-type]
                                raw_input=arguments)
        answer = await self.conn.request_permission(session_id=session.id, tool_call=update, options=ALLOW)
        return isinstance(answer.outcome, AllowedOutcome) and answer.outcome.option_id == "allow"

    async def _offer(self, session: Session, proposal: dict[str, Any]) -> None:
        """A proposed edit, as diffs with its verification: written only if the client picks Apply."""
        root = session.backends.root.resolve()
        diffs = []
        for change in proposal["changes"]:
            old = None if change["created"] else (root / change["path"]).read_text(encoding="utf-8")
            new = _after(old or "", [e for e in proposal["edits"] if e["path"] == change["path"]])
            diffs.append(tool_diff_content(str(root / change["path"]), new, old))
        verification = proposal["verification"]["summary"]
        update = ToolCallUpdate(tool_call_id=f"edit-{uuid.uuid4().hex[:8]}",
                                title=f"Apply edit: {proposal.get('description') or 'proposed change'} ({verification})",
                                kind="edit", status="pending", content=[*diffs, tool_content(_text(verification))])
        answer = await self.conn.request_permission(session_id=session.id, tool_call=update, options=APPLY)
        if not (isinstance(answer.outcome, AllowedOutcome) and answer.outcome.option_id == "apply"):
            await self.conn.session_update(session.id, update_agent_message_text("\n\nEdit not applied."))
            return
        try:
            done = await self.registry.result("edit.apply", {"edits": proposal["edits"]}, Call(session.backends))
            note = f"\n\nApplied to {', '.join(done['paths'])}."
        except OperationError as exc:
            note = f"\n\nThe edit was not applied: {exc.message}"
        await self.conn.session_update(session.id, update_agent_message_text(note))

    async def close(self) -> None:
        for session in self.sessions.values():
            await session.backends.aclose()


def _after(text: str, edits: list[dict[str, Any]]) -> str:
    for edit in edits:
        text = edit["newText"] if not edit["oldText"] else text.replace(edit["oldText"], edit["newText"], 1)
    return text


def _text(text: str) -> Any:
    from acp.helpers import text_block

    return text_block(text)


def _short(value: Any) -> str:
    import json

    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:79] + "…"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nexus-ide")
    except PackageNotFoundError:
        return "0"


async def serve_stdio(agent: NexusAcpAgent) -> None:
    try:
        # The protocol class lists every method; the router answers "method not found" for the ones
        # this agent does not serve (load, fork, resume, modes).
        await run_agent(agent)  # type: ignore[arg-type]
    finally:
        await agent.close()
