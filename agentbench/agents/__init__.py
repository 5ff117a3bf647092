"""Agent scaffolds by name; an unknown name lists the known ones."""

from __future__ import annotations

from agentbench.agents.deliberate import DeliberateAgent
from agentbench.agents.fast import FastAgent
from agentbench.agents.minimal import MinimalAgent
from agentbench.contracts import Agent
from agentbench.errors import UserError

AGENTS: dict[str, type] = {"fast": FastAgent, "deliberate": DeliberateAgent, "minimal": MinimalAgent}


def get_agent(name: str) -> Agent:
    """A fresh agent of the named scaffold."""
    if name not in AGENTS:
        raise UserError(f"Unknown agent {name!r}; known: {', '.join(sorted(AGENTS))}.")
    return AGENTS[name]()
