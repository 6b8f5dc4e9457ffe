"""Verified edits: a proposed change is applied to a scratch copy of the workspace (never the user's
files) and checked there: it parses, its diagnostics are not worse, and the tests it touches run (the
workspace's detected test command, sandboxed like ``nexus run``). The result travels with the proposal;
the user's files change only through ``edit.apply``, which the user calls after accepting."""

from __future__ import annotations

from .edits import EditConflict, FileChange, apply_changes, plan_changes
from .overlay import Overlay
from .testrun import TestCommand, TestRun, detect_tests, run_tests
from .verify import Check, Verification, verify

__all__ = ["Check", "EditConflict", "FileChange", "Overlay", "TestCommand", "TestRun", "Verification",
           "apply_changes", "detect_tests", "plan_changes", "run_tests", "verify"]
