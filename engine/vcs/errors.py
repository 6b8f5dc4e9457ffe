"""What can go wrong reading a repository, as messages a user can act on.

    NexusError
     └── VcsError                 the repository cannot be read as asked (corrupt, unreadable object)
          ├── RevisionNotFound    a ref, commit or range that does not resolve (also a NotFoundError)
          └── BadRevision         a revision that is not a commit (a tree, a blob), or an unborn HEAD

pygit2's own errors (``GitError``, ``KeyError`` for unknown objects, ``ValueError`` for malformed ids)
are translated where they enter, in :mod:`nexus.engine.vcs.repository`.
"""

from __future__ import annotations

from ..errors import NexusError, NotFoundError


class VcsError(NexusError):
    pass


class RevisionNotFound(VcsError, NotFoundError):
    pass


class BadRevision(VcsError):
    pass
