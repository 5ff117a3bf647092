"""Tasks: what an agent is asked to do, and how the grader decides it was done."""

from agentbench.tasks.model import Limits, Task
from agentbench.tasks.suite import load_suite, load_task

__all__ = ["Limits", "Task", "load_suite", "load_task"]
