"""Nexus jupyter_ext."""
