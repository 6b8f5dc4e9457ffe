"""The issue's scenarios in JupyterLab 4 + jupyterlab-lsp in headless Chromium: Nexus completions and hover in
a notebook cell, go to a definition in the workspace package, the chat panel streaming an answer with its
receipt (the fake model behind the real SDK), Explain and Fix on a failing cell, and inline completion
accepted with Tab."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_llm import Reply

from .conftest import Lab

pytestmark = pytest.mark.browser


def open_notebook(page: Any, lab: Lab) -> None:
    page.goto(lab.page_url("analysis.ipynb"))
    page.wait_for_selector(".jp-Notebook .jp-Cell .cm-content")
    # jupyterlab-lsp says so once the notebook's virtual document is open on the Nexus server.
    page.locator(".jp-StatusBar-Widget", has_text="Fully initialized").wait_for(timeout=60_000)


def cell(page: Any, index: int) -> Any:
    return page.locator(".jp-Notebook .jp-Cell").nth(index)


def type_in_cell(page: Any, index: int, text: str) -> None:
    editor = cell(page, index).locator(".cm-content")
    editor.click()
    page.keyboard.press("End")
    page.keyboard.type(text)


NOTEBOOK_AREA = {"x": 290, "y": 40, "width": 1060, "height": 260}
WITH_PANEL = {"x": 560, "y": 30, "width": 840, "height": 560}


def shoot(page: Any, name: str, clip: dict[str, int]) -> None:
    """With NEXUS_DOC_SCREENSHOTS=<folder>, save what docs/jupyter.md shows (docs/images/ holds them)."""
    folder = os.environ.get("NEXUS_DOC_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), clip=clip)


def source(page: Any, index: int) -> str:
    return str(page.evaluate(
        "i => window.jupyterapp.shell.currentWidget.content.widgets[i].model.sharedModel.getSource()", index))


def test_nexus_completion_and_hover_in_a_cell(page: Any, lab: Lab) -> None:
    lab.fake.set_default(Reply(text=""), route="anthropic")  # no ghost text over the completer
    try:
        completion_and_hover(page, lab)
    finally:
        lab.fake.set_default(Reply(), route="anthropic")


def completion_and_hover(page: Any, lab: Lab) -> None:
    open_notebook(page, lab)
    # The kernel never ran the import: only the language server can know `scale` here.
    type_in_cell(page, 1, "sca")
    page.evaluate("window.jupyterapp.commands.execute('completer:invoke-notebook')")
    item = page.locator(".jp-Completer .jp-Completer-item", has_text="scale")
    item.first.wait_for()
    shoot(page, "jupyterlab-completion", NOTEBOOK_AREA)
    page.keyboard.press("Escape")

    name = cell(page, 0).locator(".cm-content span", has_text=re.compile(r"^scale$"))
    if not name.count():  # CodeMirror may not split the name into its own span
        name = cell(page, 0).locator(".cm-content")
    box = name.last.bounding_box()
    page.mouse.move(box["x"] + box["width"] - 8, box["y"] + box["height"] / 2)
    tooltip = page.locator(".lsp-hover")
    tooltip.wait_for()
    assert "factor" in tooltip.inner_text()
    shoot(page, "jupyterlab-hover", NOTEBOOK_AREA)


def test_go_to_a_definition_in_the_workspace_package(page: Any, lab: Lab) -> None:
    open_notebook(page, lab)
    editor = cell(page, 0).locator(".cm-content")
    editor.click()
    page.keyboard.press("End")  # the cursor on `scale`, the last name of the import
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Control+b")
    page.locator(".lm-TabBar-tab", has_text="shapes.py").wait_for()
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget?.context?.path === 'pkg/shapes.py'")
    line = page.evaluate("window.jupyterapp.shell.currentWidget.content.editor.getCursorPosition().line")
    assert line == 16  # `def scale(` in pkg/shapes.py


def test_chat_streams_an_answer_with_its_receipt(page: Any, lab: Lab) -> None:
    lab.fake.script("anthropic", Reply(chunks=("Use ", "`scale` ", "from pkg/shapes.py."), chunk_interval=0.4))
    open_notebook(page, lab)
    page.locator('.lm-TabBar-tab[data-id="nexus-chat"]').click()
    box = page.locator(".nexus-Chat-input")
    box.fill("How do I scale a circle's area?")
    box.press("Enter")
    answer = page.locator(".nexus-Chat-answer").last
    # Streamed: the first words are shown while the answer is still coming.
    page.locator(".nexus-Chat-answer.nexus-mod-streaming", has_text="Use").wait_for()
    page.locator(".nexus-Chat-answer:not(.nexus-mod-streaming)", has_text="from pkg/shapes.py.").wait_for()
    assert answer.inner_text() == "Use `scale` from pkg/shapes.py."
    receipt = page.locator(".nexus-Chat-receipt").last
    assert "anthropic" in receipt.locator("summary").inner_text()
    shoot(page, "jupyterlab-chat", WITH_PANEL)
    link = receipt.locator("a.nexus-Chat-link", has_text="pkg/shapes.py")
    link.first.click()
    page.locator(".lm-TabBar-tab", has_text="shapes.py").wait_for()
    assert "How do I scale" in lab.fake.requests[-1].prompt_text


def test_explain_and_fix_a_failing_cell(page: Any, lab: Lab) -> None:
    open_notebook(page, lab)
    failing = cell(page, 2)
    failing.locator(".cm-content").click()
    page.keyboard.press("Control+Enter")  # run it in place: the cell stays active
    failing.locator(".jp-OutputArea-output", has_text="TypeError").wait_for(timeout=60_000)

    lab.fake.script("anthropic", Reply(text="Adding an int to a str raises TypeError."))
    failing.locator('[data-command="nexus:explain-cell"]').click()
    entry = page.locator(".nexus-Chat-entry").last
    entry.locator(".nexus-Chat-question", has_text="Explain: analysis.ipynb, cell 3").wait_for()
    entry.locator(".nexus-Chat-answer:not(.nexus-mod-streaming)", has_text="raises TypeError").wait_for()
    assert "total = 1 + 'one'" in lab.fake.requests[-1].prompt_text
    shoot(page, "jupyterlab-explain", WITH_PANEL)

    lab.fake.script("anthropic", Reply(text="```python\ntotal = 1 + len('one')\n```"))
    failing.locator(".cm-content").click()
    failing.locator('[data-command="nexus:fix-cell"]').click()
    entry = page.locator(".nexus-Chat-entry").last
    entry.locator(".nexus-Chat-question", has_text="Fix this error").wait_for()
    entry.locator(".nexus-Chat-apply").click()
    assert source(page, 2) == "total = 1 + len('one')"
    assert "unsupported operand type(s) for +: 'int' and 'str'" in lab.fake.requests[-1].prompt_text


def test_inline_completion_accepted_with_tab(page: Any, lab: Lab) -> None:
    lab.fake.set_default(Reply(text="cle(2.0)"), route="anthropic")
    try:
        open_notebook(page, lab)
        type_in_cell(page, 3, "circle = Cir")
        page.locator(".jp-GhostText", has_text="cle(2.0)").wait_for()
        page.keyboard.press("Tab")
        assert source(page, 3) == "circle = Circle(2.0)"
    finally:
        lab.fake.set_default(Reply(), route="anthropic")
