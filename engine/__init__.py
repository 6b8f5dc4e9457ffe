"""Nexus engine."""
