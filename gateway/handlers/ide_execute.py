"""``ide:execute`` is the ``execute`` operation (``nexus.services.ops.execute``); its request and executor
types stay importable here for the executors that implement them."""

from nexus.services.ops.execute import ExecuteRequest, Executor

__all__ = ["ExecuteRequest", "Executor"]
