"""The words sent to the model for each task, and the fill-in-the-middle prompt for inline completion.

Layout, most stable first so that provider prompt caches hit across requests about the same code: the
system prompt (fixed per task), the workspace context (ordered by stability by the context engine),
then the code in question, then the instruction or question. Chat models have no native FIM endpoint
through these APIs, so inline completion marks the cursor with ``<CURSOR/>`` and asks for the text to
insert there, which ``clean_completion`` then trims of what models tend to add (fences, an echo of
the line typed so far, an overlap with the text after the cursor).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from nexus.engine import languages

from .grounding import Focus, Grounding
from .model import AssistRequest, Task

CURSOR = "<CURSOR/>"

_BASE = (
    "You are Nexus, a coding assistant working inside the user's editor on their workspace. The workspace "
    "context below was chosen from the user's code for this request (each piece is marked with its path and "
    "lines): rely on it, and cite the files you use as path:line. If it does not hold what you need, say so "
    "instead of guessing."
)
_EDIT = (
    " Reply with exactly one fenced code block holding the complete replacement for the code in question "
    "(all of its lines, with the same indentation), preceded by at most two sentences saying what you "
    "changed. Do not include code from outside the code in question."
)
SYSTEM = {
    Task.CHAT: _BASE + " Answer concisely in Markdown.",
    Task.EXPLAIN: _BASE + " Explain what the code in question does and why, in the context of this workspace: "
                          "its purpose, inputs and outputs, and anything surprising. Be concise; use Markdown.",
    Task.FIX: _BASE + " Fix the problem the editor reports in the code in question with the smallest correct "
                      "change." + _EDIT,
    Task.DOCSTRING: _BASE + " Add documentation to the definition in question: a docstring in Python, the "
                            "language's documentation comment elsewhere (JSDoc, Javadoc, Doxygen), saying what it "
                            "does, its parameters, what it returns and what it raises. Change nothing else." + _EDIT,
    Task.REFACTOR: _BASE + " Refactor the code in question to be clearer and simpler without changing its "
                           "behaviour or its public names." + _EDIT,
    Task.TESTS: _BASE + " Write focused unit tests for the code in question. Reply with exactly one fenced "
                        "code block holding a complete test file (imports included) that runs as is, preceded "
                        "by at most two sentences.",
    Task.INLINE: "You are a code completion engine. Reply with only the code to insert at " + CURSOR + ": no "
                 "explanation, no code fences, no repetition of the code before or after the cursor. Complete "
                 "the current statement or block and stop where the code after the cursor takes over.",
}



def _code_block(focus: Focus, language: str | None) -> str:
    lang = f' language="{language}"' if language else ""
    return (f'<code_in_question path="{focus.path}" lines="{focus.start_line + 1}-{focus.end_line + 1}"{lang}>\n'
            f"{focus.text}{'' if focus.text.endswith(chr(10)) else chr(10)}</code_in_question>\n")


def _context_block(grounding: Grounding) -> str:
    if not grounding.context_text:
        return ""
    return f"<workspace_context>\n{grounding.context_text}</workspace_context>\n\n"


def instruction(request: AssistRequest, test_path: str | None = None) -> str:
    """The last part of the user message: the question or what to do."""
    task = request.task
    if task is Task.CHAT:
        return request.question
    if task is Task.EXPLAIN:
        return request.question or "Explain the code in question."
    if task is Task.FIX:
        diag = request.diagnostic
        if diag is None:
            return "Fix the bug in the code in question." + (f" {request.question}" if request.question else "")
        origin = " ".join(x for x in (diag.source, f"[{diag.code}]" if diag.code else "") if x)
        where = f"line {diag.span.start_line + 1}"
        return f"The editor reports{f' ({origin})' if origin else ''} at {where}: {diag.message}\nFix it."
    if task is Task.DOCSTRING:
        return "Add the documentation." + (f" {request.question}" if request.question else "")
    if task is Task.REFACTOR:
        return request.question or "Refactor it."
    if task is Task.TESTS:
        language = request.document.language if request.document else None
        found = languages.lookup(language)
        framework = found.test_framework if found is not None and found.test_framework \
            else "the language's usual test framework"
        where = f" The test file will be saved as {test_path}." if test_path else ""
        extra = f" {request.question}" if request.question else ""
        return f"Write tests with {framework}.{where}{extra}"
    raise ValueError(f"no instruction for {task}")


def user_message(request: AssistRequest, grounding: Grounding, test_path: str | None = None) -> str:
    parts = [_context_block(grounding)]
    if grounding.focus is not None:
        language = request.document.language if request.document else None
        parts.append(_code_block(grounding.focus, language) + "\n")
    parts.append(instruction(request, test_path))
    return "".join(parts)


# -- inline completion -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FimParts:
    """The text before and after the cursor that goes into the prompt, and the rows it spans."""

    prefix: str
    suffix: str
    first_row: int
    last_row: int
    tokens: int


def fim_parts(text: str, offset: int, count: Callable[[str], int], prefix_tokens: int,
              suffix_tokens: int) -> FimParts:
    """Split ``text`` at character ``offset``; keep whole lines of prefix and suffix within their budgets
    (the cursor's own line always)."""
    before, after = text[:offset], text[offset:]
    rows = before.split("\n")
    kept: list[str] = [rows[-1]]
    used = count(rows[-1])
    for row in reversed(rows[:-1]):
        cost = count(row + "\n")
        if used + cost > prefix_tokens:
            break
        kept.append(row)
        used += cost
    prefix = "\n".join(reversed(kept))
    first_row = len(rows) - len(kept)
    rows_after = after.split("\n")
    taken = [rows_after[0]]
    used_after = count(rows_after[0])
    for row in rows_after[1:]:
        cost = count("\n" + row)
        if used_after + cost > suffix_tokens:
            break
        taken.append(row)
        used_after += cost
    suffix = "\n".join(taken)
    last_row = len(rows) - 1 + len(taken) - 1
    return FimParts(prefix, suffix, first_row, last_row, used + used_after)


def fim_message(path: str, language: str | None, parts: FimParts, grounding: Grounding) -> str:
    lang = f' language="{language}"' if language else ""
    return (f"{_context_block(grounding)}<file path=\"{path}\"{lang}>\n{parts.prefix}{CURSOR}{parts.suffix}\n</file>\n\n"
            f"Reply with the code to insert at {CURSOR}.")


_CLOSERS = frozenset(")]}'\";:,> ")
_FENCE = re.compile(r"^\s*```[\w+#.-]*[ \t]*\n(.*?)(?:\n```\s*)?$", re.DOTALL)


def clean_completion(answer: str, prefix: str, suffix: str) -> str:
    """The text to insert: without a fence around it, without the part of the current line the model
    repeated, and without a tail that the text after the cursor already has."""
    text = answer
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    text = text.replace(CURSOR, "")
    line_before = prefix.rsplit("\n", 1)[-1]
    if line_before.strip() and text.startswith(line_before):
        text = text[len(line_before):]
    elif line_before.strip() and text.lstrip().startswith(line_before.strip()) and not line_before.isspace():
        text = text.lstrip()[len(line_before.strip()):]
    first_after = suffix.split("\n", 1)[0].strip()
    if first_after:
        stripped = text.rstrip()
        if stripped.endswith(first_after):
            text = stripped[:-len(first_after)]
        elif all(c in _CLOSERS for c in first_after):
            # `foo(|)` answered with `a, b)`: the closing part is already there.
            for size in range(len(first_after), 0, -1):
                if stripped.endswith(first_after[:size]):
                    text = stripped[:-size]
                    break
    if not suffix.strip():
        text = text.rstrip()
    return text if text.strip() else ""
