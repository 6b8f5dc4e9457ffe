"""JupyterLab in a real browser: a `jupyter lab` subprocess on 127.0.0.1 (with the Nexus server extension,
jupyter-lsp running `nexus lsp`, and the built Nexus lab extension), driven by Playwright through
Debian's Chromium (``executable_path``; nothing downloads a browser).

One lab and one browser serve the whole folder (a lab takes seconds to start; CI has 2 cores). Each test
gets a fresh page; a failing test leaves a screenshot under ``$NEXUS_ARTIFACTS`` (default
``<basetemp>/artifacts``). The tests skip when Chromium or the built extension is missing, and fail
instead under CI (``CI`` set), where scripts/test.sh installs and builds both.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_llm import FakeLLM

ROOT = Path(__file__).resolve().parents[2]
LABEXTENSION = ROOT / "jupyter_ext" / "labextension"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TOKEN = "nexus-browser-test-token"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-default-apps", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage", "--mute-audio", "--window-size=1400,900"]

SHAPES = '''"""Shapes with areas."""

import math


class Circle:
    """A circle of a given radius."""

    def __init__(self, radius: float) -> None:
        self.radius = radius

    def area(self) -> float:
        """The area, in square units."""
        return math.pi * self.radius ** 2


def scale(shape: Circle, factor: float) -> float:
    """Scale a shape's area by ``factor``."""
    return shape.area() * factor
'''


def notebook(*cells: str) -> str:
    return json.dumps({
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"cell-{i}", "metadata": {}, "outputs": [],
                   "source": cell} for i, cell in enumerate(cells)],
        "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5}, indent=1)


def _required(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} (scripts/test.sh provides it in CI)")
    pytest.skip(what)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Lab:
    def __init__(self, url: str, root: Path, fake: FakeLLM, log: Path) -> None:
        self.url, self.root, self.fake, self.log = url, root, fake, log

    def api(self, path: str, body: dict[str, Any] | None = None, timeout: float = 60) -> Any:
        request = urllib.request.Request(f"{self.url}{path}", method="POST" if body is not None else "GET",
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Authorization": f"token {TOKEN}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"null")

    def page_url(self, path: str = "") -> str:
        return f"{self.url}lab/tree/{path}?token={TOKEN}&reset"


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("NEXUS_ARTIFACTS") or tmp_path_factory.getbasetemp() / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="package")  # ends with the package: Playwright's sync API keeps an event loop
def lab(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[Lab]:
    if not Path(CHROMIUM).exists():
        _required("Debian's chromium is not installed (apt-get install chromium chromium-driver)")
    if not (LABEXTENSION / "package.json").is_file():
        _required("the JupyterLab extension is not built (npm ci && npm run build in editors/jupyterlab)")
    base = tmp_path_factory.mktemp("lab")
    root = base / "work"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (root / "pkg" / "shapes.py").write_text(SHAPES, encoding="utf-8")
    (root / "analysis.ipynb").write_text(notebook(
        "from pkg.shapes import Circle, scale\n", "", "total = 1 + 'one'\n", ""), encoding="utf-8")
    # Jupyter's data path: the built lab extension, as a wheel installs it; settings the tests rely on.
    data = base / "data"
    (data / "labextensions").mkdir(parents=True)
    os.symlink(LABEXTENSION, data / "labextensions" / "nexus-jupyterlab")
    settings = base / "app-settings"
    settings.mkdir()
    (settings / "overrides.json").write_text(json.dumps({
        "@jupyterlab/lsp-extension:plugin": {"activate": "on"},
        "@jupyterlab/completer-extension:inline-completer": {
            "providers": {"nexus": {"enabled": True, "debouncerDelay": 0, "timeout": 30000},
                          "@jupyterlab/inline-completer:history": {"enabled": False}}},
        "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
        "@jupyterlab/completer-extension:manager": {"autoCompletion": False, "providerTimeout": 15000},
        "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
        "@jupyter-lsp/jupyterlab-lsp:hover": {"autoActivate": True, "delay": 100},
    }), encoding="utf-8")
    fake = FakeLLM().start()
    config = base / "config"
    config.mkdir()
    (config / "jupyter_server_config.json").write_text(json.dumps({
        "ServerApp": {"jpserver_extensions": {"nexus.jupyter_ext": True, "jupyter_lsp": True}},
        "NexusExtension": {"nexus_config": {
            "providers": {"order": ["anthropic"], "max_retries": 0},
            "anthropic": {"base_url": fake.base_url("anthropic"), "api_key": "test-key-not-secret"}}},
    }), encoding="utf-8")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXUS_", "JUPYTER_"))
           and k not in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY")}
    env.update(JUPYTER_CONFIG_DIR=str(config), JUPYTER_DATA_DIR=str(base / "user-data"), JUPYTER_PATH=str(data),
               JUPYTER_PLATFORM_DIRS="1", NEXUS_CACHE_DIR=str(base / "cache"), NEXUS_CONFIG_DIR=str(base / "nexus"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", PYTHONWARNINGS="ignore")
    log = artifacts / "jupyterlab.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
             f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={TOKEN}",
             f"--LabApp.app_settings_dir={settings}", f"--LabApp.user_settings_dir={base / 'user-settings'}",
             f"--LabApp.workspaces_dir={base / 'workspaces'}", "--LabApp.news_url=", "--ServerApp.open_browser=False",
             "--LabApp.expose_app_in_browser=True"],
            cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    lab = Lab(url, root, fake, log)
    try:
        deadline = time.monotonic() + 90
        while True:
            if server.poll() is not None:
                pytest.fail(f"jupyter lab exited ({server.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
            try:
                lab.api("nexus/api/status", timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer:\n{log.read_text(errors='replace')[-3000:]}")
                time.sleep(0.25)
        lab.api("nexus/api/index", {}, timeout=120)  # the Nexus API's grounding reads the index
        yield lab
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        fake.stop()


@pytest.fixture(scope="package")  # running in this thread, which breaks every later asyncio test
def browser(lab: Lab) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.stash[FAILED] = report.failed


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def page(browser: Any, lab: Lab, artifacts: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    if request.node.stash.get(FAILED, True):
        shot = artifacts / f"{request.node.name}.png"
        try:
            page.screenshot(path=str(shot))
        except Exception as exc:  # a crashed page still fails the test; the screenshot is a bonus
            sys.stderr.write(f"no screenshot for {request.node.name}: {exc}\n")
        else:
            sys.stderr.write(f"screenshot of the failure: {shot}\n")
    context.close()
