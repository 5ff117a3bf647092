"""agentbench: which agent configuration solves the most real tasks per dollar and per hour."""

__version__ = "0.1.0"
