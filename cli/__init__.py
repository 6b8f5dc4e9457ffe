"""Nexus cli."""
