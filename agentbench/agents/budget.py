"""The budget meter: counts steps, tokens, dollars and seconds, and stops an attempt on the first exhausted."""

from __future__ import annotations

import time
from typing import Callable

from agentbench.contracts import AttemptStopped, Budget, Step

Price = Callable[[int, int, int], float | None]  # prompt, completion, cached tokens -> USD


class BudgetMeter:
    """One attempt's spending against its budget (whose steps and seconds are set)."""

    def __init__(self, budget: Budget, price: Price):
        self.budget = budget
        self.price = price
        self.deadline = time.monotonic() + budget.seconds
        self.steps = 0
        self.tokens = 0
        self.dollars = 0.0

    def seconds_left(self) -> float:
        """Seconds before the wall-clock limit; stops the attempt when none are left."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise AttemptStopped("time_limit", f"{self.budget.seconds:g} s")
        return left

    def before_call(self) -> float:
        """Check every ceiling before a model call; returns the seconds left."""
        if self.steps >= self.budget.steps:
            raise AttemptStopped("step_limit", f"{self.budget.steps} model calls")
        if self.budget.tokens is not None and self.tokens >= self.budget.tokens:
            raise AttemptStopped("token_limit", f"{self.tokens} of {self.budget.tokens} tokens")
        if self.budget.dollars is not None and self.dollars >= self.budget.dollars:
            raise AttemptStopped("cost_limit", f"${self.dollars:.4f} of ${self.budget.dollars:g}")
        return self.seconds_left()

    def charge(self, step: Step) -> None:
        """Count one model call's tokens and cost."""
        self.steps += 1
        self.tokens += step.prompt_tokens + step.completion_tokens
        self.dollars += self.price(step.prompt_tokens, step.completion_tokens, step.cached_tokens) or 0.0
