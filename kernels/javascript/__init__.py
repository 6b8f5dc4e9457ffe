"""The JavaScript wrapper kernel (Node.js). Run as ``python -m nexus.kernels.javascript -f FILE``."""
