"""Reads for clients stay inside the workspace: attacked with traversal, links, races and odd files.

Every test runs twice: with ``openat2`` (this kernel has it) and with the component walk forced, the
fallback for kernels without it (and the path absolute links inside the workspace take).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from nexus.engine import paths
from nexus.engine.errors import BadPathError, NotFoundError, WorkspaceError
from nexus.engine.paths import open_inside, read_text_inside

SECRET = "top secret outside the workspace"


@pytest.fixture(params=["openat2", "walk"])
def method(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "walk":
        monkeypatch.setattr(paths.OPENAT2, "available", False)
    else:
        fd = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
        try:
            opened = paths.OPENAT2.open(fd, b".")
        finally:
            os.close(fd)
        if opened is None:
            pytest.skip("this kernel has no openat2")
        os.close(opened)
    yield request.param


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    """A workspace with inside links of every kind, and a secret next to it."""
    root = tmp_path / "ws"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "app.py").write_text("print('inside')\n")
    (root / "src" / "pkg" / "mod.py").write_text("x = 1\n")
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    (root / "rel-in").symlink_to("src/app.py")
    (root / "abs-in").symlink_to(root / "src" / "app.py")
    (root / "dir-in").symlink_to("src")
    (root / "src" / "pkg" / "up").symlink_to("../app.py")
    (root / "chain").symlink_to("dir-in/pkg/up")
    (root / "rel-out").symlink_to("../secret.txt")
    (root / "abs-out").symlink_to(secret)
    (root / "dir-out").symlink_to(tmp_path)
    (root / "proc-root").symlink_to("/proc/self/root")
    (root / "deep-out").symlink_to("src/../../secret.txt")
    (root / "loop-a").symlink_to("loop-b")
    (root / "loop-b").symlink_to("loop-a")
    return root, secret


def test_inside_paths_and_inside_links_are_read(method: str, tree: tuple[Path, Path]) -> None:
    root, _ = tree
    app = root / "src" / "app.py"
    for name in ("src/app.py", "./src//app.py", "src/pkg/../app.py", "rel-in", "abs-in", "dir-in/app.py",
                 "src/pkg/up", "chain", str(app), "dir-in/pkg/../../src/app.py"):
        real, text = read_text_inside(root, name)
        assert (real, text) == (app, "print('inside')\n"), name
    assert read_text_inside(root, "dir-in/pkg/mod.py")[0] == root / "src" / "pkg" / "mod.py"


def test_every_way_out_is_refused(method: str, tree: tuple[Path, Path]) -> None:
    root, secret = tree
    for name in ("../secret.txt", "src/../../secret.txt", str(secret), "/etc/passwd", "rel-out", "abs-out",
                 "dir-out/secret.txt", "proc-root/etc/passwd", "/proc/self/root/etc/passwd",
                 "proc-root" + str(secret), "deep-out", "src/pkg/../../../secret.txt", "..", "/"):
        with pytest.raises(WorkspaceError) as caught:
            read_text_inside(root, name)
        assert SECRET not in str(caught.value), name
        assert not isinstance(caught.value, NotFoundError), name


def test_odd_files_get_clear_errors(method: str, tree: tuple[Path, Path]) -> None:
    root, _ = tree
    os.mkfifo(root / "pipe")  # nobody writes it: a blocking open would hang here forever
    (root / "huge.txt").write_bytes(b"a" * 2048)
    (root / "blob.py").write_bytes(b"\x00\x01\x02")
    cases = {"pipe": "not a regular file", "src": "not a file", ".": "not a file", "huge.txt": "above the 1024",
             "blob.py": "binary", "loop-a": "too many symbolic links", "src/app.py/x": "Not a directory"}
    for name, fragment in cases.items():
        with pytest.raises(WorkspaceError, match=fragment):
            read_text_inside(root, name, limit=1024)
    with pytest.raises(NotFoundError):
        read_text_inside(root, "src/missing.py")
    with pytest.raises(NotFoundError):
        read_text_inside(root, "missing/app.py")


@pytest.mark.parametrize("name", ["a\x00b", "src/\x00", "\ud800.py", "src/\udfff"])
def test_paths_no_file_can_have_are_bad_paths(method: str, tree: tuple[Path, Path], name: str) -> None:
    root, _ = tree
    with pytest.raises(BadPathError, match="not a valid path"):
        read_text_inside(root, name)
    with pytest.raises(BadPathError):
        paths.resolve_inside(root, name)


def test_undecodable_file_names_are_still_readable(method: str, tree: tuple[Path, Path]) -> None:
    root, _ = tree
    (root / os.fsdecode(b"caf\xe9.txt")).write_text("latin-1 name\n")
    assert read_text_inside(root, os.fsdecode(b"caf\xe9.txt"))[1] == "latin-1 name\n"


FLIPPER = """
import os, sys
root, secret, outside_dir = sys.argv[1:]
j = os.path.join
print("ready", flush=True)
while True:
    # victim: a regular file inside, then a link to the secret (os.replace: it always exists)
    with open(j(root, ".file.tmp"), "w") as fh:
        fh.write("inside\\n")
    os.replace(j(root, ".file.tmp"), j(root, "victim"))
    os.symlink(secret, j(root, ".link.tmp"))
    os.replace(j(root, ".link.tmp"), j(root, "victim"))
    # vdir: a real folder inside, then a link to an outside folder (a folder cannot be replaced by a
    # link in one step, so it is missing for a moment)
    os.rename(j(root, "vdir"), j(root, ".vdir.real"))
    os.symlink(outside_dir, j(root, "vdir"))
    os.unlink(j(root, "vdir"))
    os.rename(j(root, ".vdir.real"), j(root, "vdir"))
"""


def test_a_link_swapped_during_reads_never_reaches_outside(method: str, tree: tuple[Path, Path]) -> None:
    """The attack from issue 13: another process keeps swapping ``victim`` (a file) for a link to the
    secret and ``vdir`` (a folder) for a link to an outside folder, while reads run: a check of the
    real path followed by a read through the path leaks; an open beneath the root's descriptor never
    does. (A thread would mostly wait for the GIL; a process races for real.)"""
    root, secret = tree
    outside_dir = secret.parent / "outside"
    outside_dir.mkdir()
    (outside_dir / "app.py").write_text(SECRET)
    (root / "vdir").mkdir()
    (root / "vdir" / "app.py").write_text("inside\n")
    flipper = subprocess.Popen([sys.executable, "-c", FLIPPER, str(root), str(secret), str(outside_dir)],
                               stdout=subprocess.PIPE)
    leaked = inside = refused = 0
    try:
        assert flipper.stdout is not None and flipper.stdout.readline() == b"ready\n"
        for i in range(4000):
            try:
                _, text = read_text_inside(root, "victim" if i % 2 else "vdir/app.py")
            except (WorkspaceError, NotFoundError):
                refused += 1
                continue
            if SECRET in text:
                leaked += 1
            else:
                inside += 1
    finally:
        flipper.kill()
        flipper.wait(10)
        if flipper.stdout is not None:
            flipper.stdout.close()
    assert leaked == 0
    assert inside > 0 and refused > 0  # the race really flipped both ways while reading


def test_open_inside_hands_back_a_descriptor_of_the_file(method: str, tree: tuple[Path, Path]) -> None:
    root, _ = tree
    fd, real = open_inside(root, "chain")
    try:
        assert os.read(fd, 100) == b"print('inside')\n"
        assert real == root / "src" / "app.py"
    finally:
        os.close(fd)


def test_files_outside_any_workspace_get_the_same_checks(tmp_path: Path) -> None:
    """The LSP reads a library's source (outside every folder) with read_text_file: no confinement,
    but a FIFO is refused at once, and size, binary and missing are clear errors."""
    from nexus.engine.paths import read_text_file

    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "lib.py").write_text("def lib(): pass\n")
    (tmp_path / "big.py").write_bytes(b"#" * 100)
    assert read_text_file(tmp_path / "lib.py") == "def lib(): pass\n"
    for name, fragment in {"pipe": "not a regular file", ".": "not a file", "big.py": "above the 10-byte"}.items():
        with pytest.raises(WorkspaceError, match=fragment):
            read_text_file(tmp_path / name, limit=10)
    with pytest.raises(NotFoundError):
        read_text_file(tmp_path / "missing.py")
    with pytest.raises(BadPathError):
        read_text_file(str(tmp_path / "a\x00b.py"))
