"""The combinator's rules, with small real Semantics whose answers the test releases (no sleeps, no
timing): the backend's answer is the answer; the index answers only without a backend, when it fails
or is not ready, past the limit, or when the file's scopes settle it; an empty index waits; a cancelled
request stops the backend, an abandoned one lets it finish."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from lsprotocol import types

from nexus.lsp_server.documents import Documents
from nexus.lsp_server.options import Options
from nexus.lsp_server.semantics import Asker, BackendUnavailable, Exact, Query
from nexus.lsp_server.semantics.protocol import abandoned


def loc(name: str) -> types.Location:
    return types.Location(f"file:///{name}.py", types.Range(types.Position(0, 0), types.Position(0, 1)))


class Backend:
    """Answers each request when the test releases it (or at once); records how it ended."""

    def __init__(self, name: str, answer: Any = None, *, gate: asyncio.Event | None = None,
                 error: Exception | None = None, ready: bool = True) -> None:
        self.name = name
        self.answer = answer
        self.gate = gate
        self.error = error
        self.is_ready = ready
        self.calls = 0
        self.ended: list[str] = []

    def ready(self, doc: Any) -> bool:
        return self.is_ready

    def opened(self, doc: Any) -> None:
        return None

    def status(self) -> dict[str, Any]:
        return {}

    async def _answer(self, q: Query) -> Any:
        self.calls += 1
        try:
            if self.gate is not None:
                await self.gate.wait()
        except asyncio.CancelledError as exc:
            self.ended.append("abandoned" if abandoned(exc) else "cancelled")
            raise
        if self.error is not None:
            raise self.error
        self.ended.append("answered")
        return self.answer

    definition = references = hover = highlight = completion = prepare_rename = signature_help = _answer


def query() -> Query:
    doc = Documents().open(types.TextDocumentItem("file:///w/a.py", "python", 1, "x = 1\n"), "a.py")
    return Query(doc, types.Position(0, 0), 0, 0, None)


def asker(**budgets: float) -> Asker:
    options = Options.parse({"budgets": budgets})
    return Asker(lambda: options)


async def test_the_backend_answer_is_the_answer() -> None:
    a = asker()
    outcome = await a.ask("definition", query(), Backend("jedi", [loc("right")]), Backend("index", [loc("wrong")]))
    assert (outcome.value, outcome.source, outcome.fallback) == ([loc("right")], "jedi", False)
    assert a.status() == {"definition": {"jedi": 1}}


async def test_no_backend_or_not_ready_the_index_answers_at_once() -> None:
    index = Backend("index", [loc("by-name")])
    outcome = await asker().ask("definition", query(), None, index)
    assert (outcome.source, outcome.fallback, outcome.reason) == ("index", False, "no backend for this language")
    starting = Backend("ty", [loc("right")], ready=False)
    outcome = await asker().ask("definition", query(), starting, index)
    assert (outcome.source, outcome.fallback, outcome.reason) == ("index", True, "ty is not ready")
    assert starting.calls == 0


async def test_late_backend_is_abandoned_and_the_index_answers() -> None:
    gate = asyncio.Event()
    backend = Backend("jedi", [loc("right")], gate=gate)
    outcome = await asker(definition=0).ask("definition", query(), backend, Backend("index", [loc("by-name")]))
    assert (outcome.value, outcome.source, outcome.fallback) == ([loc("by-name")], "index", True)
    assert outcome.reason == "jedi over its 0 ms limit"
    await asyncio.sleep(0)
    assert backend.ended == ["abandoned"]  # the job may finish and fill caches; it is not stopped


async def test_a_backend_within_the_limit_is_waited_for() -> None:
    gate = asyncio.Event()
    backend = Backend("jedi", [loc("right")], gate=gate)
    index = Backend("index", [loc("by-name")])
    pending = asyncio.ensure_future(asker(definition=60_000).ask("definition", query(), backend, index))
    while index.ended != ["answered"]:  # the index answer is ready first: it must not be taken
        await asyncio.sleep(0)
    assert not pending.done()
    gate.set()
    outcome = await pending
    assert (outcome.value, outcome.source) == ([loc("right")], "jedi")


async def test_an_exact_index_answer_need_not_wait() -> None:
    gate = asyncio.Event()
    backend = Backend("jedi", [loc("right")], gate=gate)
    outcome = await asker(definition=60_000).ask("definition", query(), backend, Backend("index", Exact([loc("local")])))
    assert (outcome.value, outcome.source, outcome.reason) == ([loc("local")], "index", "settled by the file's scopes")
    await asyncio.sleep(0)
    assert backend.ended == ["abandoned"]
    # Only where the policy says so: references never take an exact shortcut.
    gate.set()
    outcome = await asker().ask("references", query(), Backend("jedi", [loc("r")]), Backend("index", Exact([loc("x")])))
    assert outcome.source == "jedi"


async def test_failure_or_empty_answer_lets_the_index_answer(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    index = Backend("index", [loc("by-name")])
    outcome = await asker().ask("references", query(), Backend("ty", error=BackendUnavailable("ty crashed")), index)
    assert (outcome.value, outcome.source, outcome.reason) == ([loc("by-name")], "index", "ty: ty crashed")
    assert "references: ty could not answer: ty crashed" in caplog.text
    outcome = await asker().ask("references", query(), Backend("jedi", []), index)
    assert (outcome.source, outcome.reason) == ("index", "jedi had no answer")
    # A bug in a backend is logged with its traceback, and the user still gets an answer.
    outcome = await asker().ask("hover", query(), Backend("jedi", error=KeyError("oops")), Backend("index", "doc"))
    assert (outcome.value, outcome.source) == ("doc", "index")
    assert "hover: jedi failed" in caplog.text and "KeyError" in caplog.text
    # prepareRename: jedi's "not renameable" is an answer, not a reason to ask the index.
    outcome = await asker().ask("prepareRename", query(), Backend("jedi", None), Backend("index", "placeholder"))
    assert (outcome.value, outcome.source) == (None, "jedi")


async def test_an_empty_index_completion_waits_for_the_backend() -> None:
    gate = asyncio.Event()
    items = types.CompletionList(is_incomplete=False, items=[types.CompletionItem("path")])
    backend = Backend("jedi", items, gate=gate)
    empty = types.CompletionList(is_incomplete=False, items=[])
    pending = asyncio.ensure_future(asker(completion=0).ask("completion", query(), backend, Backend("index", empty)))
    while backend.calls == 0 or not pending.get_loop().is_running():
        await asyncio.sleep(0)
    for _ in range(10):
        await asyncio.sleep(0)
    assert not pending.done()  # past the (zero) limit, the index has nothing: patience
    gate.set()
    outcome = await pending
    assert (outcome.value, outcome.source, outcome.fallback) == (items, "jedi", False)
    # With something to show, the index answers past the limit (the feature marks it incomplete).
    some = types.CompletionList(is_incomplete=False, items=[types.CompletionItem("pa_local")])
    outcome = await asker(completion=0).ask("completion", query(), Backend("jedi", items, gate=asyncio.Event()),
                                            Backend("index", some))
    assert (outcome.value, outcome.source, outcome.fallback) == (some, "index", True)


async def test_no_index_answer_for_types_or_signatures() -> None:
    outcome = await asker(signatureHelp=0).ask("signatureHelp", query(), Backend("jedi", gate=asyncio.Event()),
                                               Backend("index", "never asked"))
    assert (outcome.value, outcome.source) == (None, "")


async def test_a_cancelled_request_stops_the_backend() -> None:
    gate = asyncio.Event()
    backend = Backend("jedi", [loc("right")], gate=gate)
    index = Backend("index", [loc("by-name")], gate=asyncio.Event())
    pending = asyncio.ensure_future(asker(definition=60_000).ask("definition", query(), backend, index))
    while backend.calls == 0 or index.calls == 0:
        await asyncio.sleep(0)
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    assert backend.ended == ["cancelled"] and index.ended == ["cancelled"]


def test_options_are_parsed_once_and_unknown_keys_logged(caplog: pytest.LogCaptureFixture) -> None:
    options = Options.parse({"index": False, "budgets": {"definition": 250, "nosuch": 1, "hover": "x"},
                             "fileWatcher": "no", "python": {"backend": "ty"}, "client": "vscode", "ai": {},
                             "colour": "blue"})
    assert (options.index, options.file_watcher, options.python_backend, options.client) == (False, True, "ty", "vscode")
    assert options.budget("definition") == 0.25 and options.budget("hover") is None
    assert options.unknown == ("colour",)
    assert "unknown initializationOptions ignored: colour" in caplog.text
    assert "budgets.nosuch: no such feature" in caplog.text
    assert "initializationOptions.fileWatcher = 'no': expected true or false" in caplog.text
    assert Options.parse(None) == Options() and Options.parse(["x"]) == Options()
    assert Options.parse({"python": {"backend": "clippy"}}).python_backend == ""
