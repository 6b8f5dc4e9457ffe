"""The agent: a model that calls the operations as tools, through the providers' native tool calling.

One loop (:func:`run_agent`) serves every face: the ``ai.agent`` operation (gateway ``ai:agent``, LSP
``nexus/agent``, the Jupyter socket), ``nexus ask --agent`` and ``nexus acp``. It lives in ``services``
because its tools are operations; the provider-specific tool-call wire formats live in
``nexus.engine.providers``. See docs/agent.md.
"""

from __future__ import annotations

from .loop import AgentLimits, AgentOutcome, Approver, StepReceipt, Turn, run_agent

__all__ = ["AgentLimits", "AgentOutcome", "Approver", "StepReceipt", "Turn", "run_agent"]
