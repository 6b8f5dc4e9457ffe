"""The AI features of the real `nexus lsp` (a subprocess) against the fake model server: nexus/chat with
partial results and cancellation, failures, inline completion, every code action, and the same server
with no provider configured."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcRequestCancelled

from tests.support.fake_llm import FakeLLM, Reply

from .conftest import GEOMETRY, REPORT, base_env, model_env, write_project
from .session import Session, line_of, pos

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(90)]

REQUEST_FAILED, CONTENT_MODIFIED = -32803, -32801


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("assist-lsp")
    return write_project(home / "project")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lsp(root: Path, fake: FakeLLM) -> AsyncIterator[Session]:
    session = Session(root, model_env(fake, root.parent))
    await session.start()
    yield session
    await session.stop()


@pytest.fixture(autouse=True)
def fresh_script(fake: FakeLLM) -> Iterator[None]:
    fake.set_default(Reply(text="(unscripted)"))
    yield
    for route in ("anthropic", "openai", "*"):
        fake._scripts[route].clear()


def open_report(lsp: Session, text: str = REPORT) -> str:
    return lsp.open("pkg/report.py", text)


async def test_chat_streams_partial_results_and_ends_with_the_receipt(lsp: Session, fake: FakeLLM) -> None:
    fake.script("anthropic", Reply(chunks=("It prints ", "the circle's ", "area.")))
    uri = open_report(lsp)
    result = await lsp.request("nexus/chat", {
        "prompt": "What does describe print?", "textDocument": {"uri": uri},
        "position": pos(line_of(REPORT, "circle.area()"), 30), "partialResultToken": "chat-1"})
    assert [p["delta"] for p in lsp.partials["chat-1"]] == ["It prints ", "the circle's ", "area."]
    assert result["text"] == "It prints the circle's area." and result["generated"] is True
    assert (result["provider"], result["model"]) == ("anthropic", "claude-sonnet-5-5")
    assert result["usage"]["outputTokens"] == 3
    focus = result["receipt"][0]
    assert (focus["uri"], focus["path"], focus["startLine"], focus["endLine"]) == (
        uri, "pkg/report.py", line_of(REPORT, "def describe"), line_of(REPORT, "circle.area()"))
    circle = [r for r in result["receipt"] if r["path"] == "pkg/geometry.py" and r["kind"] == "definition"]
    assert circle and circle[0]["uri"] == lsp.uri("pkg/geometry.py")
    assert circle[0]["startLine"] == line_of(GEOMETRY, "class Circle")
    prompt = fake.requests_to("anthropic")[-1].prompt_text
    assert '<code_in_question path="pkg/report.py"' in prompt and prompt.endswith("What does describe print?")


async def test_chat_sees_unsaved_text(lsp: Session, fake: FakeLLM) -> None:
    fake.script("anthropic", Reply(text="It doubles the radius."))
    text = REPORT.replace('return f"circle of area', 'return f"UNSAVED circle of area')
    uri = lsp.open("pkg/report.py", text, version=7)
    await lsp.request("nexus/chat", {"prompt": "explain", "textDocument": {"uri": uri},
                                     "position": pos(line_of(text, "UNSAVED"), 4)})
    assert 'return f"UNSAVED circle of area' in fake.requests_to("anthropic")[-1].prompt_text


async def test_cancel_request_stops_the_upstream_model_request(lsp: Session, fake: FakeLLM) -> None:
    fake.script("anthropic", Reply(chunks=tuple(f"w{i} " for i in range(200)), chunk_interval=0.05))
    msg_id, answer = lsp.send("nexus/chat", {"prompt": "tell me a long story", "partialResultToken": "chat-slow"})
    await asyncio.wait_for(lsp.wait_partial("chat-slow"), 30)
    lsp.cancel(msg_id)
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(answer, 30)
    upstream = fake.requests_to("anthropic")[-1]
    assert await fake.wait_disconnected(upstream, 10)
    assert not upstream.completed and upstream.chunks_sent < 200


async def test_a_failing_provider_falls_back_and_a_broken_stream_keeps_its_text(lsp: Session, fake: FakeLLM) -> None:
    fake.script("anthropic", Reply.error(500, message="upstream exploded"))
    fake.script("openai", Reply(text="answered by the fallback"))
    fell_back = await lsp.request("nexus/chat", {"prompt": "where is Circle defined?"})
    assert (fell_back["provider"], fell_back["text"]) == ("openai", "answered by the fallback")
    fake.script("anthropic", Reply(chunks=("half ", "an ", "answer"), cut_after=2))
    with pytest.raises(JsonRpcException) as caught:
        await lsp.request("nexus/chat", {"prompt": "where is Circle defined?", "partialResultToken": "chat-cut"})
    error = caught.value
    assert error.code == REQUEST_FAILED and "anthropic" in error.message
    assert error.data["type"] == "StreamInterruptedError" and error.data["partialText"] == "half an "
    assert [p["delta"] for p in lsp.partials["chat-cut"]] == ["half ", "an "]


async def test_chat_rejects_bad_params(lsp: Session) -> None:
    for params in ({}, {"prompt": "  "}, {"prompt": "x", "textDocument": {}}, {"prompt": "x", "provider": 3},
                   {"prompt": "x", "partialResultToken": {"a": 1}},
                   {"prompt": "x", "textDocument": {"uri": lsp.uri("pkg/report.py")}, "position": {"line": -1}}):
        with pytest.raises(JsonRpcException) as caught:
            await lsp.request("nexus/chat", params)
        assert caught.value.code == -32602, params


async def test_inline_completion_inserts_the_model_text_at_the_cursor(lsp: Session, fake: FakeLLM) -> None:
    text = GEOMETRY + "\n\ndef circumference(circle: Circle) -> float:\n    \n"
    uri = lsp.open("pkg/geometry.py", text)
    fake.script("anthropic", Reply(text="return 2 * math.pi * circle.radius"))
    cursor = types.Position(line_of(text, "def circumference") + 1, 4)
    result = await lsp.client.text_document_inline_completion_async(types.InlineCompletionParams(
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
        text_document=types.TextDocumentIdentifier(uri), position=cursor))
    assert isinstance(result, types.InlineCompletionList) and len(result.items) == 1
    item = result.items[0]
    assert item.insert_text == "return 2 * math.pi * circle.radius"
    assert item.range == types.Range(cursor, cursor)
    sent = fake.requests_to("anthropic")[-1].json
    assert sent["model"] == "claude-haiku-5-5" and "-> float:\n    <CURSOR/>\n" in sent["messages"][-1]["content"]


async def test_typing_on_drops_the_inline_request_in_flight(lsp: Session, fake: FakeLLM) -> None:
    text = GEOMETRY + "\n\ndef diameter(circle: Circle) -> float:\n    \n"
    uri = lsp.open("pkg/geometry.py", text, version=1)
    fake.script("anthropic", Reply(text="return 2 * circle.radius", first_byte_delay=20))
    before = len(fake.requests)
    params = types.InlineCompletionParams(
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
        text_document=types.TextDocumentIdentifier(uri), position=types.Position(line_of(text, "def diameter") + 1, 4))
    _, pending = lsp.send(types.TEXT_DOCUMENT_INLINE_COMPLETION, params)
    while len(fake.requests) == before:  # past the debounce: the model request is out
        await asyncio.sleep(0.02)
    lsp.change(uri, text.replace("    \n", "    r\n"), version=2)
    with pytest.raises(JsonRpcException) as caught:
        await asyncio.wait_for(pending, 30)
    assert caught.value.code == CONTENT_MODIFIED
    assert await fake.wait_disconnected(fake.requests[-1], 10)


async def code_actions(lsp: Session, uri: str, first: tuple[int, int], last: tuple[int, int],
                       diagnostics: list[types.Diagnostic] | None = None,
                       only: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """The offered actions by title (as JSON: see Session.raw)."""
    found = await lsp.raw(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri), range=types.Range(types.Position(*first), types.Position(*last)),
        context=types.CodeActionContext(diagnostics=diagnostics or [], only=only)))
    return {a["title"]: a for a in found or []}


def diagnostic_json(problem: types.Diagnostic) -> dict[str, Any]:
    return {"range": {"start": pos(problem.range.start.line, problem.range.start.character),
                      "end": pos(problem.range.end.line, problem.range.end.character)},
            "message": problem.message, "source": problem.source, "code": problem.code}


async def test_code_actions_offer_what_fits_the_selection_and_diagnostics(lsp: Session) -> None:
    uri = lsp.open("pkg/geometry.py", GEOMETRY)
    area = line_of(GEOMETRY, "return math.pi")
    problem = types.Diagnostic(range=types.Range(types.Position(area, 15), types.Position(area, 17)),
                               message="F821 undefined name `pi`", source="ruff", code="F821")
    actions = await code_actions(lsp, uri, (area, 8), (area, 20), [problem])
    assert set(actions) == {"Nexus: Fix “F821 undefined name `pi`”", "Nexus: Explain",
                            "Nexus: Add docstring to Circle.area", "Nexus: Write tests for Circle.area",
                            "Nexus: Refactor"}
    fix = actions["Nexus: Fix “F821 undefined name `pi`”"]
    assert fix["kind"] == "quickfix" and fix["diagnostics"] == [diagnostic_json(problem)]
    assert fix["command"]["command"] == "nexus.fixDiagnostic"
    assert fix["command"]["arguments"] == [{"textDocument": {"uri": uri}, "range": {
        "start": pos(area, 8), "end": pos(area, 20)}, "diagnostic": diagnostic_json(problem)}]
    assert "kind" not in actions["Nexus: Explain"]
    assert actions["Nexus: Refactor"]["kind"] == "refactor.rewrite"
    assert await code_actions(lsp, uri, (2, 0), (2, 0)) == {}
    only_fixes = await code_actions(lsp, uri, (area, 8), (area, 20), [problem], only=[types.CodeActionKind.QuickFix])
    assert list(only_fixes) == ["Nexus: Fix “F821 undefined name `pi`”"]


async def run_command(lsp: Session, action: dict[str, Any]) -> Any:
    return await lsp.request(types.WORKSPACE_EXECUTE_COMMAND, types.ExecuteCommandParams(
        command=action["command"]["command"], arguments=action["command"]["arguments"]))


actions_at = code_actions


async def test_each_edit_action_applies_its_edit(lsp: Session, fake: FakeLLM) -> None:
    uri = lsp.open("pkg/geometry.py", GEOMETRY)
    lsp.files[uri] = GEOMETRY
    scale = line_of(GEOMETRY, "def scale")

    fake.script("anthropic", Reply(text='```python\ndef scale(circle: Circle, factor: float) -> Circle:\n'
                                        '    """Scale the radius."""\n    return Circle(circle.radius * factor)\n```'))
    docstring = await run_command(lsp, (await actions_at(lsp, uri, (scale + 1, 4), (scale + 1, 4)))[
        "Nexus: Add docstring to scale"])
    assert docstring["applied"] is True and docstring["generated"] is True
    assert lsp.files[uri] == GEOMETRY.replace("-> Circle:\n    return Circle(circle",
                                              '-> Circle:\n    """Scale the radius."""\n    return Circle(circle')
    edit = lsp.applied[-1]
    assert edit.label == "Nexus: Add docstring" and edit.edit.document_changes[0].text_document.version == 1

    # The model returns the method without its class indentation: it is put back.
    area = line_of(GEOMETRY, "def area")
    lsp.files[uri] = GEOMETRY
    fake.script("anthropic", Reply(text="Simpler.\n```python\ndef area(self) -> float:\n    r = self.radius\n"
                                        "    return math.pi * r * r\n```"))
    refactor = await run_command(lsp, (await actions_at(lsp, uri, (area, 0), (area + 2, 0)))["Nexus: Refactor"])
    assert refactor["note"] == "Simpler."
    assert lsp.files[uri] == GEOMETRY.replace("        return math.pi * self.radius ** 2\n",
                                              "        r = self.radius\n        return math.pi * r * r\n")

    lsp.files[uri] = GEOMETRY
    ret = line_of(GEOMETRY, "return math.pi")
    problem = types.Diagnostic(range=types.Range(types.Position(ret, 15), types.Position(ret, 17)),
                               message="F821 undefined name `pi`", source="ruff", code="F821")
    fake.script("anthropic", Reply(text="```python\ndef area(self) -> float:\n    return math.pi * self.radius * "
                                        "self.radius\n```"))
    fixed = await run_command(lsp, (await actions_at(lsp, uri, (ret, 15), (ret, 17), [problem]))[
        "Nexus: Fix “F821 undefined name `pi`”"])
    assert fixed["applied"] is True
    assert "        return math.pi * self.radius * self.radius\n" in lsp.files[uri]
    prompt = fake.requests_to("anthropic")[-1].prompt_text
    assert f"The editor reports (ruff [F821]) at line {ret + 1}: F821 undefined name `pi`" in prompt

    fake.script("anthropic", Reply(text="```python\nfrom pkg.geometry import Circle\n\n\ndef test_area():\n"
                                        "    assert round(Circle(1.0).area(), 2) == 3.14\n```"))
    tests = await run_command(lsp, (await actions_at(lsp, uri, (area + 1, 4), (area + 1, 4)))[
        "Nexus: Write tests for Circle.area"])
    target = lsp.uri("tests/test_geometry.py")
    assert tests["applied"] is True and lsp.created == [target]
    assert lsp.files[target] == "from pkg.geometry import Circle\n\n\ndef test_area():\n" \
                                "    assert round(Circle(1.0).area(), 2) == 3.14\n"


async def test_explain_answers_in_the_chat_shape_and_a_stale_edit_is_refused(lsp: Session, fake: FakeLLM) -> None:
    uri = lsp.open("pkg/geometry.py", GEOMETRY, version=1)
    area = line_of(GEOMETRY, "def area")
    fake.script("anthropic", Reply(text="It computes pi r squared."))
    explained = await run_command(lsp, (await actions_at(lsp, uri, (area, 0), (area + 2, 0)))["Nexus: Explain"])
    assert explained["text"] == "It computes pi r squared." and explained["receipt"][0]["kind"] == "selection"
    # The user types while the model works: the edit is not sent.
    fake.script("anthropic", Reply(text="```python\ndef area(self) -> float:\n    return 0\n```", first_byte_delay=1.0))
    applied_before = len(lsp.applied)
    action = (await actions_at(lsp, uri, (area, 0), (area + 2, 0)))["Nexus: Refactor"]
    request = asyncio.ensure_future(run_command(lsp, action))
    while not fake.requests or fake.requests[-1].prompt_text.find("Refactor it.") < 0:
        await asyncio.sleep(0.02)
    lsp.change(uri, GEOMETRY + "\n# typed meanwhile\n", version=2)
    with pytest.raises(JsonRpcException) as caught:
        await request
    assert caught.value.code == CONTENT_MODIFIED and len(lsp.applied) == applied_before


async def test_run_streams_kernel_output_per_cell_with_a_session_per_document(lsp: Session) -> None:
    uri = open_report(lsp)
    first = await lsp.request("nexus/run", {"textDocument": {"uri": uri}, "cell": True,
                                            "position": pos(line_of(REPORT, "value = 40"), 0), "timeout": 60,
                                            "partialResultToken": "run-1"})
    assert first["exitCode"] == 0 and first["output"] == "first cell 40\n"
    assert lsp.partials["run-1"] == [{"output": {"output_type": "stream", "name": "stdout", "text": "first cell 40\n"}}]
    # The second cell sees the first one's variable and imports the workspace package.
    second = await lsp.request("nexus/run", {"textDocument": {"uri": uri}, "cell": True,
                                             "position": pos(line_of(REPORT, "second cell"), 3), "timeout": 60})
    assert second["output"] == "second cell 42 12.57\n", second
    failed = await lsp.request("nexus/run", {"code": "1 / 0", "language": "python", "timeout": 60})
    assert failed["exitCode"] == 1 and failed["outputs"][-1]["ename"] == "ZeroDivisionError"
    # Closing the document ends its session: reopened, the second cell runs in a fresh kernel.
    lsp.client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    uri = open_report(lsp)
    fresh = await lsp.request("nexus/run", {"textDocument": {"uri": uri}, "cell": True,
                                            "position": pos(line_of(REPORT, "second cell"), 3), "timeout": 60})
    assert fresh["exitCode"] == 1 and fresh["outputs"][-1]["evalue"] == "name 'value' is not defined"


async def test_run_file_runs_the_program_and_publishes_its_errors(lsp: Session, root: Path) -> None:
    (root / "tool").mkdir(mode=0o755)
    (root / "tool" / "helper.py").write_text("def check(n):\n    if n > 1:\n        raise ValueError(f'too many: {n}')\n")
    main = "import sys\nimport helper\n\nprint(sys.argv[1:])\nhelper.check(len(sys.argv))\n"
    (root / "tool" / "main.py").write_text(main)
    uri = lsp.open("tool/main.py", main)
    ok = await lsp.request("nexus/run", {"textDocument": {"uri": uri}, "timeout": 60})
    assert (ok["exitCode"], ok["output"], ok["errors"]) == (0, "[]\n", []), ok
    failed = await lsp.request("nexus/run", {"textDocument": {"uri": uri}, "args": ["a"], "timeout": 60})
    assert failed["exitCode"] == 1 and failed["output"].startswith("['a']\n"), failed
    helper_uri = (root / "tool" / "helper.py").as_uri()
    # no column: Python draws no carets under a line that is the whole failing expression
    assert failed["errors"] == [{"path": str(root / "tool" / "helper.py"), "line": 3, "column": None,
                                 "message": "ValueError: too many: 2"}]
    await wait_for(lambda: helper_uri in lsp.diagnostics, lsp.diagnostics_event)
    (published,) = lsp.diagnostics[helper_uri]
    assert (published.source, published.range.start.line, published.range.start.character) == ("nexus run", 2, 0)
    assert published.message == "ValueError: too many: 2"
    lsp.diagnostics_event.clear()
    await lsp.request("nexus/run", {"textDocument": {"uri": uri}, "timeout": 60})  # fixed: cleared
    await wait_for(lambda: lsp.diagnostics.get(helper_uri) == [], lsp.diagnostics_event)


async def wait_for(condition: Any, event: asyncio.Event, timeout: float = 30) -> None:
    async def until() -> None:
        while not condition():
            event.clear()
            await event.wait()
    await asyncio.wait_for(until(), timeout)


async def test_run_a_wrapper_language_and_refuse_bad_params(lsp: Session) -> None:
    js = await lsp.request("nexus/run", {"language": "javascript", "timeout": 60,
                                         "code": "console.log([1, 2, 3].map((x) => x * 2).join(','))"})
    assert js["exitCode"] == 0 and js["output"] == "2,4,6\n"
    uri = lsp.open("web/util.js", (lsp.root / "web" / "util.js").read_text(), language="javascript")
    selection = await lsp.request("nexus/run", {"textDocument": {"uri": uri}, "timeout": 60,
                                                "range": {"start": pos(0, 0), "end": pos(3, 0)}})
    assert selection["exitCode"] == 0
    for params in ({}, {"code": 1}, {"code": "1", "timeout": 0}, {"code": "1", "language": ""},
                   {"textDocument": {"uri": uri}, "cell": True}):
        with pytest.raises(JsonRpcException) as caught:
            await lsp.request("nexus/run", params)
        assert caught.value.code == -32602, params
    with pytest.raises(JsonRpcException) as unknown:
        await lsp.request("nexus/run", {"code": "1", "language": "cobol"})
    assert unknown.value.code == REQUEST_FAILED and "unknown language 'cobol'" in unknown.value.message


# -- the same server without any provider ----------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bare(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Session]:
    home = tmp_path_factory.mktemp("assist-bare")
    root = write_project(home / "project")
    session = Session(root, base_env(home))
    await session.start()
    yield session
    await session.stop()


async def test_without_a_provider_chat_is_retrieval_only_and_edits_say_how_to_configure(bare: Session) -> None:
    uri = bare.open("pkg/geometry.py", GEOMETRY)
    result = await bare.request("nexus/chat", {"prompt": "how is the area of a circle computed?",
                                               "partialResultToken": "bare-1"})
    assert result["generated"] is False and result["provider"] == "" and result["usage"] == {}
    assert result["text"].startswith("**Not model-generated:**")
    assert "".join(p["delta"] for p in bare.partials["bare-1"]) == result["text"]
    assert any(r["uri"] == bare.uri("pkg/geometry.py") for r in result["receipt"])
    area = line_of(GEOMETRY, "def area")
    actions = await actions_at(bare, uri, (area, 0), (area + 2, 0))
    assert list(actions) == ["Nexus: Explain"]
    inline = await bare.client.text_document_inline_completion_async(types.InlineCompletionParams(
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
        text_document=types.TextDocumentIdentifier(uri), position=types.Position(area + 1, 8)))
    assert inline is None
    with pytest.raises(JsonRpcException) as caught:
        await bare.request(types.WORKSPACE_EXECUTE_COMMAND, types.ExecuteCommandParams(
            command="nexus.addDocstring", arguments=[{"textDocument": {"uri": uri},
                                                      "range": {"start": pos(area, 0), "end": pos(area, 0)}}]))
    assert caught.value.code == REQUEST_FAILED and "ANTHROPIC_API_KEY" in caught.value.message


async def test_shutdown_stops_every_kernel_before_answering(tmp_path: Path) -> None:
    session = Session(write_project(tmp_path / "project"), base_env(tmp_path))
    await session.start()
    try:
        uri = session.open("pkg/report.py", REPORT)
        ran = await session.request("nexus/run", {"textDocument": {"uri": uri}, "timeout": 60,
                                                  "cell": True, "position": pos(line_of(REPORT, "value = 40"), 0)})
        assert ran["exitCode"] == 0
        where = await session.request("nexus/run", {"code": "import os; print(os.getpid(), os.getcwd())",
                                                    "timeout": 60})
        pid, cwd = where["output"].split()
        base = Path(cwd).parents[1]  # <backend folder>/<kernel>/work
        assert base.name.startswith("nexus-k-") and base.is_dir()
    finally:
        await asyncio.wait_for(session.client.shutdown_async(None), 30)
    # The shutdown response came after the execution service closed: its folder is gone already.
    assert not base.exists()
    session.client.exit(None)
    await session.client.stop()
