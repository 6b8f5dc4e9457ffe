"""``nexus ask QUESTION``: a grounded answer about the workspace, streamed, then its context receipt.

Without a configured provider the answer is retrieval-only (the most relevant code from the index),
labelled as not model-generated. Exit status: 0 answered, 1 the provider failed (what arrived is
kept on stdout, the reason on stderr), 2 bad usage or settings.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import print_json, stderr, workspace

if TYPE_CHECKING:
    from nexus.engine import Workspace
    from nexus.engine.assistant import Answer, Assistant, AssistRequest, Document


@click.command()
@click.argument("question", nargs=-1, required=True)
@click.option("--root", default=".", type=click.Path(file_okay=False), help="Workspace folder (default: .).")
@click.option("--provider", help="Ask this provider (anthropic, openai, gemini, local, or a configured name).")
@click.option("--model", help="Use this model instead of the chat role's.")
@click.option("--file", "file_at", metavar="PATH[:LINE]", help="Ask about this file (and line, 1-based).")
@click.option("--budget", type=click.IntRange(1, 1_000_000), help="Tokens of workspace context (default 12000).")
@click.option("--json", "as_json", is_flag=True, help="Print the whole answer as JSON (no streaming).")
@click.option("--agent", "agent", is_flag=True, help="Let the agent work with tools (search, read, propose edits).")
@click.option("--allow", default="edit", show_default=True, type=click.Choice(["read", "edit", "execute"]),
              help="With --agent: what it may do without asking (execute: also run code and tests).")
@click.option("--max-steps", default=20, show_default=True, type=click.IntRange(1, 100), help="With --agent.")
@click.option("--apply", "apply", is_flag=True, help="With --agent: apply every verified proposal without asking.")
def ask(question: tuple[str, ...], root: str, provider: str | None, model: str | None, file_at: str | None,
        budget: int | None, as_json: bool, agent: bool, allow: str, max_steps: int, apply: bool) -> None:
    """Ask QUESTION about the workspace at --root; an unindexed root is indexed first. With --agent, the
    agent answers with tools and proposes verified edits, applied only when you accept them."""
    from nexus.engine import NexusError
    from nexus.engine.assistant import Assistant, AssistantError, AssistRequest, Task
    from nexus.engine.providers import NoProviderError, ProviderError, StreamInterruptedError

    from .index import run_index

    text = " ".join(question).strip()
    if not text:
        raise click.UsageError("the question is empty")
    if agent:
        from .agent import run_agent_command

        run_agent_command(root, text, allow=allow, provider=provider, model=model, max_steps=max_steps,
                          apply=apply, as_json=as_json)
        return
    with workspace(root) as ws:
        if not ws.status().indexed:
            run_index(ws, show_progress=not as_json)
        try:
            assistant = Assistant.from_settings(root=ws.root)
            document, cursor = _document(ws, file_at)
        except NexusError as exc:
            click.echo(f"nexus ask: {exc}", err=True)
            sys.exit(2)
        from nexus.engine.vcs import changed_files

        request = AssistRequest(Task.CHAT, text, document, cursor=cursor, provider=provider, model=model,
                                budget=budget, changed_files=changed_files(ws.root))
        try:
            answer = asyncio.run(_stream(assistant, ws, request, echo=not as_json))
        except (NoProviderError, AssistantError) as exc:
            click.echo(f"nexus ask: {exc}", err=True)
            sys.exit(2)
        except StreamInterruptedError as exc:
            if not as_json:
                sys.stdout.write("\n")
            click.echo(f"nexus ask: the answer broke off: {exc}", err=True)
            sys.exit(1)
        except (ProviderError, NexusError) as exc:
            click.echo(f"nexus ask: {exc}", err=True)
            sys.exit(1)
    if as_json:
        print_json(answer.to_json())
        return
    _print_receipt(answer)


async def _stream(assistant: Assistant, ws: Workspace, request: AssistRequest, echo: bool) -> Answer:
    try:
        stream = assistant.answer(ws, request)
        async with stream:
            async for delta in stream:
                if echo:
                    sys.stdout.write(delta)
                    sys.stdout.flush()
        assert stream.result is not None
        return stream.result
    finally:
        await assistant.aclose()


def _document(ws: Workspace, file_at: str | None) -> tuple[Document | None, tuple[int, int] | None]:
    """The --file document and cursor: ``PATH`` or ``PATH:LINE`` (1-based), relative to the root."""
    from nexus.engine.assistant import Document
    from nexus.engine.languages import language_for
    from nexus.engine.paths import read_text_inside

    if file_at is None:
        return None, None
    path, line = file_at, None
    head, sep, tail = file_at.rpartition(":")
    if sep and tail.isdigit():
        path, line = head, int(tail)
        if line < 1:
            raise click.BadParameter("LINE is 1-based", param_hint="--file")
    target = Path(path)
    if target.is_absolute():
        target = Path(ws.relative(target))
    _, text = read_text_inside(ws.root, target)
    rel = ws.relative(ws.root / target)
    cursor = (line - 1, 0) if line is not None else None
    return Document(rel, text, language_for(rel)), cursor


def _print_receipt(answer: Answer) -> None:
    out = sys.stdout
    if not answer.text.endswith("\n"):
        out.write("\n")
    out.write("\n")
    if not answer.receipt:
        out.write("Context used: none\n")
    else:
        tokens = sum(e.tokens for e in answer.receipt)
        out.write(f"Context used ({len(answer.receipt)} pieces, {tokens} tokens):\n")
        width = max(len(e.label()) for e in answer.receipt)
        for entry in answer.receipt:
            out.write(f"  {entry.label():<{width}}  {entry.reason}\n")
    if answer.generated and answer.usage is not None:
        usage = answer.usage
        counts = " / ".join(f"{n} {what}" for n, what in ((usage.input_tokens, "in"), (usage.output_tokens, "out"))
                            if n is not None)
        stderr.print(f"[dim]{usage.provider} · {usage.model}{' · ' + counts + ' tokens' if counts else ''}"
                     f" · {usage.latency_ms / 1000:.1f} s[/]")
    out.flush()
