"""Folders are left out for what they are, not what they are called, and every such skip is reported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from nexus.engine import Workspace
from nexus.engine.skip_rules import CACHEDIR_SIGNATURE

from .conftest import write

Opener = Callable[[Path], Workspace]

SOURCE_PACKAGES = {  # a user's own code in folders named like tool output: all of it must be indexed
    "build/__init__.py": "def build_project(): pass\n",
    "dist/__init__.py": "def make_dist(): pass\n",
    "out/report.py": "def write_report(): pass\n",
    "target/aim.py": "def take_aim(): pass\n",
    "venv/manage.py": "def manage_venvs(): pass\n",
    "lib/build/steps.py": "def build_step(): pass\n",
}


def reasons(ws: Workspace) -> dict[str, str]:
    return {s.path: s.reason for s in ws.index().skipped}


def test_source_packages_named_build_dist_out_target_venv_are_indexed(tmp_path: Path, open_ws: Opener) -> None:
    write(tmp_path, SOURCE_PACKAGES)
    ws = open_ws(tmp_path)
    assert reasons(ws) == {}
    assert sorted(f.path for f in ws.files()) == sorted(SOURCE_PACKAGES)
    for name in ("build_project", "make_dist", "write_report", "take_aim", "manage_venvs", "build_step"):
        assert [h.name for h in ws.search_symbols(name, 1)] == [name]


def test_real_environments_and_build_output_are_skipped_and_listed(tmp_path: Path, open_ws: Opener) -> None:
    write(tmp_path, {
        **SOURCE_PACKAGES,
        "env/pyvenv.cfg": "home = /usr/bin\n",
        "env/lib/python3.11/site-packages/dep.py": "def from_venv(): pass\n",
        "conda/conda-meta/history": "",
        "conda/lib/python3.11/os.py": "def from_conda(): pass\n",
        "oldenv/bin/activate": "# virtualenv 16\n",
        "oldenv/lib/python2.7/site.py": "def from_old_venv(): pass\n",
        "native/build/lib.linux-x86_64-cpython-311/ext.py": "def from_setuptools(): pass\n",
        "native/setup.py": "def setup_native(): pass\n",
        "cmake-out/CMakeCache.txt": "CMAKE_BUILD_TYPE:STRING=Debug\n",
        "cmake-out/gen/config.cpp": "int from_cmake() { return 1; }\n",
        "rust/Cargo.toml": "[package]\nname = 'r'\n",
        "rust/target/debug/build/gen.py": "def from_cargo(): pass\n",
        "rust/scripts/release.py": "def rust_release(): pass\n",
        "tagged/CACHEDIR.TAG": CACHEDIR_SIGNATURE.decode() + "\n",
        "tagged/cached.py": "def from_cache(): pass\n",
        "web/node_modules/left-pad/index.js": "function from_npm() {}\n",
        "web/.gitignore": "dist/\n",
        "web/dist/bundle.js": "function from_bundle() {}\n",
        "web/app.js": "function web_source() {}\n",
        ".git/hooks/pre-commit.py": "def from_git(): pass\n",
        "pkg/__pycache__/mod.py": "def from_pycache(): pass\n",
    })
    ws = open_ws(tmp_path)
    assert reasons(ws) == {
        "env": "folder skipped: virtualenv (pyvenv.cfg)",
        "conda": "folder skipped: conda environment (conda-meta)",
        "oldenv": "folder skipped: virtualenv (bin/activate)",
        "native/build": "folder skipped: build output (setuptools lib.linux-x86_64-cpython-311/)",
        "cmake-out": "folder skipped: build output (CMakeCache.txt)",
        "rust/target": "folder skipped: build output (target/ of Cargo.toml)",
        "tagged": "folder skipped: cache or build output (CACHEDIR.TAG)",
        "web/node_modules": "folder skipped: installed npm packages (node_modules)",
        "web/dist": "folder skipped: ignored by .gitignore/.nexusignore",
    }  # .git and __pycache__ hold no one's source: skipped without a line
    assert sorted(f.path for f in ws.files()) == sorted([*SOURCE_PACKAGES, "native/setup.py", "rust/scripts/release.py",
                                                         "web/app.js"])
    for name in ("from_venv", "from_conda", "from_old_venv", "from_setuptools", "from_cmake", "from_cargo",
                 "from_cache", "from_npm", "from_bundle", "from_git", "from_pycache"):
        assert ws.search_symbols(name, 1) == [], name
    # A second run reports the same folders (nothing was stored for them as files).
    assert set(reasons(ws)) == {"env", "conda", "oldenv", "native/build", "cmake-out", "rust/target", "tagged",
                                "web/node_modules", "web/dist"}


def test_an_in_source_cmake_build_does_not_hide_the_sources(tmp_path: Path, open_ws: Opener) -> None:
    write(tmp_path, {"lib/CMakeLists.txt": "add_library(x x.cpp)\n", "lib/CMakeCache.txt": "",
                     "lib/x.cpp": "int in_source() { return 0; }\n"})
    ws = open_ws(tmp_path)
    assert reasons(ws) == {}
    assert [h.name for h in ws.search_symbols("in_source", 1)] == ["in_source"]


def test_saving_a_file_follows_the_same_rules(tmp_path: Path, open_ws: Opener) -> None:
    write(tmp_path, {"env/pyvenv.cfg": "home = /usr\n", "Cargo.toml": "[package]\n", "target/.keep": "",
                     "build/.keep": ""})
    ws = open_ws(tmp_path)
    ws.index()
    assert ws.update_file("env/lib/site.py", "def hidden(): pass\n") is None
    assert ws.update_file("target/debug/gen.py", "def hidden(): pass\n") is None
    assert ws.update_file("build/tool.py", "def shown(): pass\n") is not None  # a plain folder named build
    assert [h.name for h in ws.search_symbols("shown", 1)] == ["shown"]
    assert ws.search_symbols("hidden", 5) == []
