"""History, co-change and test-subject signals on real repositories and a real index."""

from __future__ import annotations

from pathlib import Path

from nexus.engine import Workspace
from nexus.engine.retrieval import RetrievalQuery, Retriever
from nexus.engine.retrieval.history import HistoryIndex
from nexus.engine.retrieval.tests import TestMap, about_tests, is_test
from nexus.engine.vcs import history, open_repository
from tests.support.gitrepo import GitRepo


def test_test_layouts_name_their_subjects() -> None:
    paths = ["src/flask/app.py", "tests/test_app.py", "src/main/java/org/Foo.java",
             "src/test/java/org/FooTest.java", "lib/router.js", "test/router.test.js", "lib/util.js"]
    tests = TestMap(paths)
    assert tests.tests == {"tests/test_app.py", "src/test/java/org/FooTest.java", "test/router.test.js"}
    assert tests.subjects("tests/test_app.py") == ("src/flask/app.py",)
    assert tests.subjects("src/test/java/org/FooTest.java") == ("src/main/java/org/Foo.java",)
    assert tests.subjects("test/router.test.js") == ("lib/router.js",)
    assert is_test("test/support/env.js") and not is_test("lib/testing_utils_impl.py".replace("testing_", ""))


def test_imports_name_a_subject_when_the_names_do_not() -> None:
    tests = TestMap(["src/engine.py", "tests/test_behaviour.py"],
                    imports=lambda path: ["src/engine.py"] if path == "tests/test_behaviour.py" else [])
    assert tests.subjects("tests/test_behaviour.py") == ("src/engine.py",)


def test_requests_about_tests() -> None:
    assert about_tests("Add a test for the redirect loop")
    assert about_tests("fix failing test on Windows")
    assert about_tests("improve unit tests of the parser")
    assert not about_tests("Fix redirect loop when the session cookie expires")


def _project(root: Path) -> GitRepo:
    g = GitRepo(root)
    g.commit("Start", {"net/http.py": "def get(url):\n    return url\n", "net/cache.py": "STORE = {}\n",
                       "ui/view.py": "def render():\n    return 'html'\n",
                       "tests/test_view.py": "from ui.view import render\n\ndef test_render_html():\n"
                                             "    assert render() == 'html'\n"})
    for i in range(3):
        g.commit(f"Handle connection timeouts on slow proxies ({i})",
                 {"net/http.py": f"def get(url):\n    return url  # {i}\n", "net/cache.py": f"STORE = {{{i}: 1}}\n"})
    g.commit("Tidy the view", {"ui/view.py": "def render():\n    return 'html'  # tidy\n"})
    return g


def test_history_points_at_the_files_past_commits_touched(tmp_path: Path) -> None:
    g = _project(tmp_path / "p")
    repo = open_repository(g.root)
    assert repo is not None
    index = HistoryIndex(history(repo).commits)
    assert index.files_for("proxy timeouts are too short")[:2] == ["net/cache.py", "net/http.py"]
    assert index.cochanged(["net/http.py"])[0] == "net/cache.py"  # changed together 4 times, not once
    assert index.files_for("nothing like it") == []
    with Workspace.open(g.root) as ws:
        ws.index()
        ranked = Retriever(ws).rank_files(RetrievalQuery("slow proxy timeouts", use_mtime=False), 5)
        assert {ranked[0].path, ranked[1].path} == {"net/http.py", "net/cache.py"}
        assert "history" in ranked[0].ranks


def test_the_implementation_ranks_above_its_test_unless_tests_are_asked_for(tmp_path: Path) -> None:
    g = _project(tmp_path / "p")
    with Workspace.open(g.root) as ws:
        ws.index()
        weights = {"bm25": 1.0, "tests": 0.3}
        behaviour = [f.path for f in Retriever(ws, weights=weights).rank_files(
            RetrievalQuery("render html test_render_html", use_mtime=False), 5)]
        assert behaviour.index("ui/view.py") < behaviour.index("tests/test_view.py")
        plain = [f.path for f in Retriever(ws, weights={"bm25": 1.0}, test_demotion=1.0).rank_files(
            RetrievalQuery("render html test_render_html", use_mtime=False), 5)]
        assert plain[0] == "tests/test_view.py"  # what lending and demotion undo
        asked = [f.path for f in Retriever(ws, weights=weights).rank_files(
            RetrievalQuery("add a test for render html test_render_html", use_mtime=False), 5)]
        assert asked[0] == "tests/test_view.py"


def test_a_folder_outside_git_ranks_as_before(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    (root / "net").mkdir(parents=True)
    (root / "net/http.py").write_text("def timeout():\n    return 3\n")
    with Workspace.open(root) as ws:
        ws.index()
        retriever = Retriever(ws)
        assert retriever.history() is None
        ranked = retriever.rank_files(RetrievalQuery("timeout", use_mtime=False), 5)
        assert [f.path for f in ranked] == ["net/http.py"] and "history" not in ranked[0].ranks


def test_a_corrupt_repository_does_not_stop_retrieval(tmp_path: Path) -> None:
    g = _project(tmp_path / "p")
    head = g.git("rev-parse", "HEAD")
    obj = g.root / ".git" / "objects" / head[:2] / head[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"garbage")
    with Workspace.open(g.root) as ws:
        ws.index()
        ranked = Retriever(ws).rank_files(RetrievalQuery("render html", use_mtime=False), 5)
        assert ranked and ranked[0].path == "ui/view.py"
