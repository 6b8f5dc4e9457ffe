"""Prompts: ``repo_map``, the workspace's map (``repo.map``) as a user message, for a client that wants the
model to see the lay of the land first."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mcp_types as types
from mcp.shared.exceptions import MCPError

from nexus.services import OperationError

if TYPE_CHECKING:
    from .server import NexusMcp

REPO_MAP = "repo_map"


def list_prompts() -> types.ListPromptsResult:
    return types.ListPromptsResult(prompts=[types.Prompt(
        name=REPO_MAP, title="Repository map",
        description="The workspace's most relevant files and their signatures, ranked by the code graph",
        arguments=[types.PromptArgument(name="focus", description="Comma-separated workspace paths to rank around"),
                   types.PromptArgument(name="budget", description="Tokens (default 4000)")])])


async def get_prompt(mcp: NexusMcp, params: types.GetPromptRequestParams) -> types.GetPromptResult:
    if params.name != REPO_MAP:
        raise MCPError(types.INVALID_PARAMS, f"unknown prompt {params.name!r}; prompts: {REPO_MAP}")
    args = params.arguments or {}
    payload: dict[str, object] = {"focus": [p.strip() for p in args.get("focus", "").split(",") if p.strip()]}
    budget = args.get("budget", "").strip()
    if budget:
        if not budget.isdigit():
            raise MCPError(types.INVALID_PARAMS, "budget must be a whole number of tokens")
        payload["budget"] = int(budget)
    try:
        found = await mcp.registry.result("repo.map", payload, mcp.call())
    except OperationError as exc:
        raise MCPError(types.INVALID_PARAMS, f"{exc.code.value}: {exc.message}") from None
    text = ("The map of this repository (files ranked by the code graph, with the line of each definition):\n\n"
            + found["text"])
    return types.GetPromptResult(
        description=f"Repository map: {len(found['files'])} files, {found['tokens']} tokens",
        messages=[types.PromptMessage(role="user", content=types.TextContent(type="text", text=text))])
