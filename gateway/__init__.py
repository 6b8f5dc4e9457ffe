"""Nexus gateway."""
