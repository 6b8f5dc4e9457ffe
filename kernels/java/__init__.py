"""The Java wrapper kernel (JShell API). Run as ``python -m nexus.kernels.java -f FILE``."""
