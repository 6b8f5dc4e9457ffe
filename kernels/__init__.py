"""Nexus kernels."""
