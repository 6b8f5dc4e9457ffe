"""The C++ wrapper kernel (g++). Run as ``python -m nexus.kernels.cpp -f FILE``."""
