"""``nexus commit-message`` and ``nexus review [REF]``: the AI git tasks as commands over the operations
``ai.commit_message`` and ``ai.review`` (the same results every face returns with ``--json``).

The text streams to stdout as the model writes it; ``review`` then lists the findings as
``path:line: severity: message``. Exit status: 0 done, 1 the operation failed (message on stderr).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from .common import print_json


def _echo(kind: str, data: Any) -> None:
    if kind == "ai:delta":
        sys.stdout.write(str(data.get("text", "")))
        sys.stdout.flush()


@click.command("commit-message")
@click.option("--root", default=".", type=click.Path(file_okay=False), help="Workspace folder (default: .).")
@click.option("--provider", help="Ask this provider (anthropic, openai, gemini, local, or a configured name).")
@click.option("--model", help="Use this model instead of the chat role's.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON (no streaming).")
def commit_message(root: str, provider: str | None, model: str | None, as_json: bool) -> None:
    """Write a commit message for the staged changes (`git add` them first); Nexus never commits."""
    from .operations import stream_operation

    payload = {k: v for k, v in {"provider": provider, "model": model}.items() if v is not None}
    result = stream_operation(root, "ai.commit_message", payload, (lambda k, d: None) if as_json else _echo)
    if as_json:
        print_json(result)
    elif not str(result.get("message", "")).endswith("\n"):
        sys.stdout.write("\n")


@click.command()
@click.argument("ref", default="HEAD")
@click.option("--root", default=".", type=click.Path(file_okay=False), help="Workspace folder (default: .).")
@click.option("--provider", help="Ask this provider (anthropic, openai, gemini, local, or a configured name).")
@click.option("--model", help="Use this model instead of the chat role's.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON (no streaming).")
def review(ref: str, root: str, provider: str | None, model: str | None, as_json: bool) -> None:
    """Review the changes against REF (default HEAD: the uncommitted work; A..B for a range) with their
    graph neighbourhood; findings with file and line."""
    from .operations import stream_operation

    payload = {k: v for k, v in {"ref": ref, "provider": provider, "model": model}.items() if v is not None}
    result = stream_operation(root, "ai.review", payload, (lambda k, d: None) if as_json else _echo)
    if as_json:
        print_json(result)
        return
    sys.stdout.write("\n\nFindings:\n" if result["findings"] else "\n\nFindings: none\n")
    for f in result["findings"]:
        sys.stdout.write(f"{f['path']}:{f['line']}: {f['severity']}: {f['message']}\n")
