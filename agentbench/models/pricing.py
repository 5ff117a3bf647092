"""What model calls cost, from the prices in a profile."""

from __future__ import annotations

from agentbench.models.profiles import ModelProfile


def token_cost_usd(profile: ModelProfile, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> float | None:
    """USD for these tokens at the profile's per-million prices; None when it has none.

    Built-in baselines cost nothing. Cached prompt tokens are billed at the cached price
    where one is given, else at the input price.
    """
    if profile.provider == "builtin":
        return 0.0
    prices = profile.prices
    if prices.input_per_mtok is None or prices.output_per_mtok is None:
        return None
    cached_price = prices.cached_input_per_mtok if prices.cached_input_per_mtok is not None else prices.input_per_mtok
    uncached = prompt_tokens - cached_tokens
    return (uncached * prices.input_per_mtok + cached_tokens * cached_price + completion_tokens * prices.output_per_mtok) / 1e6
