from nexus.kernels.cpp.kernel import CppKernel
from nexus.kernels.wrapper import launch

launch(CppKernel)
