"""Version control in the engine: the workspace's git repository read with libgit2 (pygit2).

Working-tree status, diffs (staged, unstaged, against a ref, between commits), blame, logs of a file or
a range, the history reachable from HEAD (bounded, cached per HEAD) and the files changed between two
commits. A folder outside any repository has no repository (``open_repository`` returns None) and
nothing else changes.
"""

from .blame import blame, line_author
from .diff import diff, patch_text
from .errors import BadRevision, RevisionNotFound, VcsError
from .history import MAX_WALK, History, changed_between, history, log_commits
from .lastchange import last_change
from .model import BlameHunk, Commit, FileDiff, FileStatus, Head, Hunk
from .repository import Repository, changed_files, open_repository
from .settings import GitSettings

__all__ = ["MAX_WALK", "BadRevision", "BlameHunk", "Commit", "FileDiff", "FileStatus", "GitSettings", "Head", "History",
           "Hunk", "Repository", "RevisionNotFound", "VcsError", "blame", "changed_between", "changed_files", "diff", "history",
           "last_change", "line_author", "log_commits", "open_repository", "patch_text"]
