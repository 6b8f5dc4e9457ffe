"""``nexus ask --agent``: the agent (the ``ai.agent`` operation) in a terminal. Its text streams to stdout,
each tool call is a line on stderr, and each proposed edit is shown with its diff and verification;
the user's files change only when the user accepts one (``y`` at the prompt, or ``--apply`` to accept
every verified proposal without asking). Exit status: 0 answered, 1 stopped by a limit or an error,
2 bad usage or settings."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import click

from .common import print_json, stderr


def run_agent_command(root: str, task: str, *, allow: str, provider: str | None, model: str | None,
                      max_steps: int, apply: bool, as_json: bool) -> None:
    from nexus.engine.config import load_settings
    from nexus.services import Backends, Call, OperationError, Registry

    from .index import run_index

    path = Path(root).resolve()
    registry = Registry.default()
    payload: dict[str, Any] = {"task": task, "allow": allow, "maxSteps": max_steps}
    if provider:
        payload["provider"] = provider
    if model:
        payload["model"] = model

    async def main() -> dict[str, Any]:
        backends = Backends.open(path, load_settings(path))
        try:
            handle = backends.workspace
            ws = await handle.get()
            if ws.store.meta("updated_at") is None:
                await asyncio.to_thread(run_index, ws, show_progress=not as_json)
            final: dict[str, Any] = {}
            items = registry.call("ai.agent", payload, Call(backends))
            try:
                async for item in items:
                    if item.final:
                        final = item.data
                    elif as_json:
                        continue
                    elif item.kind == "agent:delta":
                        sys.stdout.write(item.data["text"])
                        sys.stdout.flush()
                    else:
                        _print_step(item.data)
            finally:
                await items.aclose()  # type: ignore[attr-defined]
            if not as_json:
                sys.stdout.write("\n")
                final["applied"] = [await _offer(registry, Call(backends), proposal, apply)
                                    for proposal in final.get("proposals", [])]
            elif apply:
                final["applied"] = [await _apply(registry, Call(backends), p) if p["verification"]["verified"]
                                    else None for p in final.get("proposals", [])]
            return final
        finally:
            await backends.aclose()

    try:
        final = asyncio.run(main())
    except OperationError as exc:
        click.echo(f"nexus ask --agent: {exc}", err=True)
        sys.exit(2 if exc.code.value in ("bad_request", "unavailable", "forbidden") else 1)
    if as_json:
        print_json(final)
    else:
        stderr.print(f"[dim]{len(final.get('steps', []))} tool calls · {final.get('inputTokens', 0)} in / "
                     f"{final.get('outputTokens', 0)} out tokens · {final.get('stopReason')}[/]")
        if final.get("error"):
            click.echo(f"nexus ask --agent: {final['error']['message']}", err=True)
    sys.exit(0 if final.get("stopReason") == "answered" else 1)


def _print_step(step: dict[str, Any]) -> None:
    mark = "[green]✓[/]" if step["ok"] else "[red]✗[/]"
    stderr.print(f"{mark} [bold]{step['tool']}[/] {step['summary']} [dim]({step['durationMs']:.0f} ms)[/]",
                 highlight=False)


async def _offer(registry: Any, call: Any, proposal: dict[str, Any], apply: bool) -> list[str] | None:
    """Show a proposal; apply it if the user accepts (``--apply``: every verified one)."""
    out = sys.stdout
    out.write(f"\nProposed edit: {proposal.get('description') or '(no description)'}\n")
    for change in proposal["changes"]:
        out.write(change["diff"])
    out.write(f"{proposal['verification']['summary']}\n")
    out.flush()
    verified = proposal["verification"]["verified"]
    if apply:
        accept = verified
    elif sys.stdin.isatty():
        accept = click.confirm("Apply it?", default=False)
    else:  # a script answers on stdin, one line per proposal; end of input is "no"
        out.write("Apply it? [y/N] ")
        out.flush()
        accept = sys.stdin.readline().strip().lower() in ("y", "yes")
    if not accept:
        out.write("Not applied.\n")
        return None
    paths = await _apply(registry, call, proposal)
    out.write(f"Applied to {', '.join(paths)}.\n")
    return paths


async def _apply(registry: Any, call: Any, proposal: dict[str, Any]) -> list[str]:
    done = await registry.result("edit.apply", {"edits": proposal["edits"]}, call)
    return list(done["paths"])
