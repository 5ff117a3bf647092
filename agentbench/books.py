"""The run's own books: every model request the harness made itself (the start-up check of
whether a server reports usage in streams, the liveness probes after failed calls), with their
tokens and cost, apart from the configurations' spend, so that the configurations' totals plus
these equal what the servers billed."""

from __future__ import annotations

from agentbench.metrics import total_cost

LIVENESS = "was the endpoint up after a failed call"


def harness_books(run_calls: list[dict], attempts: list[dict]) -> dict:
    """The harness's requests by model and purpose, and their totals (cost None when any is unknown)."""
    calls = [dict(call) for call in run_calls]
    for model in sorted({a["model"] for a in attempts if a.get("harness_requests")}):
        probed = [a for a in attempts if a["model"] == model and a.get("harness_requests")]
        calls.append({"model": model, "purpose": LIVENESS, "requests": sum(a["harness_requests"] for a in probed),
                      "prompt_tokens": sum(a["harness_prompt_tokens"] for a in probed),
                      "completion_tokens": sum(a["harness_completion_tokens"] for a in probed),
                      "cost_usd": total_cost(a["harness_cost_usd"] for a in probed)})
    return {"calls": calls, "requests": sum(c["requests"] for c in calls),
            "prompt_tokens": sum(c["prompt_tokens"] for c in calls),
            "completion_tokens": sum(c["completion_tokens"] for c in calls),
            "cost_usd": total_cost(c["cost_usd"] for c in calls)}


def books_line(books: dict) -> str | None:
    """The books in one sentence for the terminal and the pages; None when the harness asked nothing."""
    if not books["requests"]:
        return None
    cost = "cost unknown" if books["cost_usd"] is None else f"${books['cost_usd']:.4f}"
    parts = "; ".join(f"{c['model']}: {c['requests']} for {c['purpose']}" for c in books["calls"])
    return (f"the harness's own requests: {books['requests']} ({parts}), {books['prompt_tokens']:,}+"
            f"{books['completion_tokens']:,} tokens, {cost}; not in the configurations' totals")
