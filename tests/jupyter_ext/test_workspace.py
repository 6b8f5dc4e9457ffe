"""Search, the index and notebooks: the workspace index of the server's root through the extension, and a
live kernel's variables (real numpy arrays and pandas frames, fetched through the kernel)."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import Fetch, api


def notebook(cells: list[str]) -> str:
    return json.dumps({
        "cells": [{"cell_type": "markdown", "metadata": {}, "source": "# Analysis"}]
        + [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": c} for c in cells],
        "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5})


async def test_search_needs_an_index_then_finds_code_and_notebook_cells(jp_fetch: Fetch, workspace: Path) -> None:
    (workspace / "analysis.ipynb").write_text(notebook([
        "import math\n", "def summarize_sales(rows):\n    return sum(r['amount'] for r in rows)\n"]))
    status, missing = await api(jp_fetch, "search", params={"q": "greet"})
    assert (status, missing["code"]) == (503, "unavailable") and "nexus index" in missing["message"]

    status, summary = await api(jp_fetch, "index", method="POST")
    assert status == 200, summary
    assert summary["files"] == 2 and summary["filesByLanguage"]["python"] >= 1

    status, found = await api(jp_fetch, "search", params={"q": "greet", "kind": "symbols"})
    assert status == 200, found
    assert [(h["path"], h["name"], h["line"]) for h in found["hits"]][0] == ("src/app.py", "greet", 1)
    status, cells = await api(jp_fetch, "search", params={"q": "summarize_sales", "kind": "symbols"})
    hit = cells["hits"][0]
    assert (hit["path"], hit["name"], hit["cell"], hit["cellLine"]) == ("analysis.ipynb", "summarize_sales", 2, 1)
    status, text = await api(jp_fetch, "search", params={"q": "amount rows", "limit": "5", "languages": "python"})
    # a text hit is a chunk of the joined code cells: this small notebook is one chunk, from the first code cell
    assert status == 200 and text["hits"][0]["path"] == "analysis.ipynb"
    assert (text["hits"][0]["cell"], text["hits"][0]["cellLine"]) == (1, 1)
    status, bad = await api(jp_fetch, "search", params={"q": "x", "limit": "many"})
    assert (status, bad["code"]) == (400, "bad_request")

    status, body = await api(jp_fetch, "status")
    assert body["index"]["indexed"] is True and body["index"]["files"] == 2


async def test_kernel_variables_describe_arrays_and_frames(jp_fetch: Fetch, workspace: Path) -> None:
    kernel = json.loads((await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "python3"}))).body)
    code = ("import numpy as np, pandas as pd\n"
            "grid = np.zeros((3, 4), dtype=np.float32)\n"
            "sales = pd.DataFrame({'region': ['n', 's'], 'amount': [1.5, 2.0]})\n"
            "names = ['a', 'b', 'c']\n"
            "def helper(): pass\n"
            "_private = 1\n")
    status, ran = await api(jp_fetch, "execute", method="POST", body={"kernelId": kernel["id"], "code": code})
    assert status == 200 and ran["exitCode"] == 0, ran
    status, body = await api(jp_fetch, "kernels", kernel["id"], "variables")
    assert status == 200, body
    found = {v["name"]: v for v in body["variables"]}
    assert set(found) == {"grid", "sales", "names"}  # no modules, functions or private names
    assert found["grid"] == {"name": "grid", "type": "numpy.ndarray", "shape": [3, 4], "dtype": "float32"}
    frame = found["sales"]
    assert frame["type"] == "pandas.DataFrame" and frame["shape"] == [2, 2]
    assert frame["columns"] == ["region", "amount"] and frame["dtypes"][1] == "float64"
    assert found["names"] == {"name": "names", "type": "list", "length": 3, "preview": "['a', 'b', 'c']"}
    assert body["language"] == "python" and body["total"] == 3

    status, again = await api(jp_fetch, "execute", method="POST", body={"kernelId": kernel["id"], "code": "dir()"})
    assert "__nexus" not in again["output"] and "result" not in again["output"]  # the probe left nothing behind
    status, missing = await api(jp_fetch, "kernels", "nope", "variables")
    assert (status, missing["code"]) == (404, "not_found")


async def test_variables_of_a_busy_kernel_fail_after_their_timeout(jp_fetch: Fetch, jp_ws_fetch: Fetch,
                                                                   workspace: Path) -> None:
    from .test_websocket import connect

    kernel = json.loads((await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "python3"}))).body)
    sock = await connect(jp_ws_fetch)
    rid = await sock.send("ide:execute", {"kernelId": kernel["id"], "timeout": 30000,
                                          "code": "import time\nprint('busy', flush=True)\ntime.sleep(30)"})
    started = await sock.recv()
    assert (started["id"], started["data"]["text"]) == (rid, "busy\n")  # the kernel is now in the long cell
    status, failed = await api(jp_fetch, "kernels", kernel["id"], "variables", params={"timeout": "1"})
    assert (status, failed["code"]) == (502, "failed") and "did not answer within 1 s" in failed["message"]
    await sock.send("cancel", {"id": rid})
    assert {(await sock.recv())["type"], (await sock.recv())["type"]} == {"error", "cancel"}
    status, body = await api(jp_fetch, "kernels", kernel["id"], "variables", params={"timeout": "10"})
    assert status == 200 and body["variables"] == []
    status, bad = await api(jp_fetch, "kernels", kernel["id"], "variables", params={"timeout": "forever"})
    assert (status, bad["code"]) == (400, "bad_request")
    sock.ws.close()


async def test_index_while_another_process_writes_it_is_busy(jp_fetch: Fetch, workspace: Path) -> None:
    from nexus.engine.lock import WriterLock

    status, body = await api(jp_fetch, "status")
    lock = WriterLock(Path(body["index"]["indexDir"]) / "writer.lock", str(workspace))
    lock.acquire()  # what `nexus index` holds while it runs
    try:
        status, busy = await api(jp_fetch, "index", method="POST")
    finally:
        lock.release()
    assert (status, busy["code"]) == (429, "busy") and "try again" in busy["message"], busy
    assert (await api(jp_fetch, "index", method="POST"))[0] == 200
