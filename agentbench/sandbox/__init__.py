"""Sandboxes: isolated places where agents run commands and graders run checks. The contract
is agentbench.contracts.Sandbox; backends are named in agentbench.sandbox.backends."""
