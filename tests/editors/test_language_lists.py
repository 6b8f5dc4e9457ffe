"""The editors attach to the languages the registry lists (nexus.engine.languages), and mark cells
with each language's comment: checked against the sources the editors ship, with no editor running."""

from __future__ import annotations

import json
import re
from pathlib import Path

from nexus.engine import languages as registry

EDITORS = Path(__file__).resolve().parents[2] / "editors"


def _strings(text: str) -> list[str]:
    return re.findall(r'"([^"]+)"', text)


def _block(path: Path, pattern: str) -> str:
    found = re.search(pattern, path.read_text(encoding="utf-8"), re.S)
    assert found is not None, f"{pattern} not in {path}"
    return found.group(1)


def _lua_keys(text: str) -> set[str]:
    return set(re.findall(r"(\w+)\s*=\s*true", text))


def test_vscode_activates_and_selects_every_registered_language() -> None:
    ids = set(registry.editor_language_ids())
    manifest = json.loads((EDITORS / "vscode/package.json").read_text(encoding="utf-8"))
    activated = {e.split(":", 1)[1] for e in manifest["activationEvents"] if e.startswith("onLanguage:")}
    assert activated == ids
    selector = _strings(_block(EDITORS / "vscode/src/server.ts", r"export const LANGUAGES = \[(.*?)\]"))
    assert set(selector) == ids and len(selector) == len(ids)


def test_neovim_attaches_to_every_registered_language() -> None:
    filetypes = _strings(_block(EDITORS / "neovim/lua/nexus/config.lua", r"filetypes = \{(.*?)\}"))
    assert set(filetypes) == set(registry.editor_language_ids())


def test_cell_markers_use_each_language_s_line_comment() -> None:
    vscode = set(_strings(_block(EDITORS / "vscode/src/common/cells.ts", r"SLASH_LANGUAGES = new Set\(\[(.*?)\]")))
    neovim = _lua_keys(_block(EDITORS / "neovim/lua/nexus/cells.lua", r"local slash = \{(.*?)\}"))
    for lang in registry.LANGUAGES:
        for language_id in lang.lsp_ids:
            slash = lang.line_comment == "//"
            assert (language_id in vscode) == slash, language_id
            assert (language_id in neovim) == slash, language_id


def test_cells_run_only_where_a_kernel_runs_them() -> None:
    cells = _strings(_block(EDITORS / "vscode/src/cellLens.ts", r"CELL_LANGUAGES = \[(.*?)\]"))
    assert cells
    for language_id in cells:
        assert registry.for_lsp_id(language_id).kernel is not None, language_id


def test_jupyterlab_languages_are_registered() -> None:
    from nexus.jupyter_ext.lsp_spec import LANGUAGES

    assert {registry.get(name).name for name in LANGUAGES} == {"python", "javascript", "typescript", "java", "cpp"}
