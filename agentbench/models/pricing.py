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


def gpu_seconds_cost_usd(gpu_seconds: float, gpu_hour_usd: float | None) -> float | None:
    """USD for GPU time at a price per GPU-hour; None when unpriced."""
    return None if gpu_hour_usd is None else gpu_seconds / 3600 * gpu_hour_usd


def server_cost_usd(uptime_s: float, gpus: int, gpu_hour_usd: float | None, machine_hour_usd: float | None) -> float | None:
    """USD for one server session: its GPU-hours on GPUs, else its machine's hours; None when unpriced."""
    if gpus:
        return gpu_seconds_cost_usd(uptime_s * gpus, gpu_hour_usd)
    return None if machine_hour_usd is None else uptime_s / 3600 * machine_hour_usd


def share_by_tokens(total: float, tokens: dict[str, int]) -> dict[str, float]:
    """`total` split across attempts in proportion to their tokens (evenly when none used any)."""
    if not tokens:
        return {}
    spent = sum(tokens.values())
    if spent == 0:
        return {key: total / len(tokens) for key in tokens}
    return {key: total * count / spent for key, count in tokens.items()}


def price_text(profile: ModelProfile) -> str:
    """The profile's prices as a report prints them, with the date they were taken."""
    prices = profile.prices
    if profile.provider == "builtin":
        return "free (baseline)"
    if prices.gpu_hour is not None:
        text = f"${prices.gpu_hour:g}/GPU-h x {profile.gpus or 1}"
    elif prices.machine_hour is not None:
        text = f"${prices.machine_hour:g}/machine-h (CPU server)"
    elif prices.input_per_mtok is not None and prices.output_per_mtok is not None:
        cached = f", cached ${prices.cached_input_per_mtok:g}" if prices.cached_input_per_mtok is not None else ""
        text = f"${prices.input_per_mtok:g} in{cached}, ${prices.output_per_mtok:g} out per Mtok"
    else:
        return "unpriced"
    return f"{text} ({prices.date})" if prices.date else text
