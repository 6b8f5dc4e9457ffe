"""Candidate keys: how an import names the files it may refer to, from the importing file's path alone.

Each language's ``resolve_import`` turns an import into keys; the code graph stores them and navigation
matches them against indexed paths, so both answer "which file does this import mean" the same way.

- ``=app/config.py``: exactly that workspace path (relative imports, quoted includes);
- ``~os/path.py``: any path ending with that suffix (absolute module names, whose source root is unknown);
- ``~com/acme/*``: any file directly in a folder ending with that path (a Java package).

A file is imported by whoever recorded a key matching it, so a file that appears later is found by the
importers that were already there.
"""

from __future__ import annotations

import posixpath


def keys_matching(path: str) -> list[str]:
    """Every candidate key that denotes ``path``: itself, its suffixes, and its folder's wildcards."""
    keys = [f"={path}"]
    parts = path.split("/")
    for i in range(len(parts)):
        keys.append("~" + "/".join(parts[i:]))
    for i in range(len(parts) - 1):
        keys.append("~" + "/".join(parts[i:-1]) + "/*")
    return keys


def key_matches(key: str, path: str) -> bool:
    body = key[1:]
    if key[0] == "=":
        return path == body
    if body.endswith("/*"):
        folder = posixpath.dirname(path)
        return folder == body[:-2] or folder.endswith("/" + body[:-2])
    return path == body or path.endswith("/" + body)


def is_folder_key(key: str) -> bool:
    return key.endswith("/*")


def key_path(key: str) -> str:
    """The path a key spells (without its marker; a folder key keeps its ``/*``)."""
    return key[1:]


def relative_to(from_path: str, module: str) -> str | None:
    """``module`` (``./x``, ``../lib/y``) joined to the importing file's folder, or None when it climbs
    out of the workspace."""
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(from_path), module))
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        return None
    return "" if joined == "." else joined
