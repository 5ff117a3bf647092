"""Every dollar agentbench computes, from the prices in a profile: the price of a call, the
stored cost of an attempt, the expected cost of an attempt not yet run, a self-hosted server's
time and each attempt's share of it."""

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


def attempt_cost_usd(profile: ModelProfile, prompt_tokens: int, completion_tokens: int, cached_tokens: int,
                     unreported_calls: int) -> float | None:
    """What an attempt's calls cost; None when unpriced or when any call's tokens are unknown
    (never a partial sum passed off as the whole). Self-hosted attempts get theirs when the run
    settles its servers (see shares_of_servers)."""
    if unreported_calls:
        return None
    return token_cost_usd(profile, prompt_tokens, completion_tokens, cached_tokens)


def expected_cost_usd(profile: ModelProfile, expected) -> float | None:
    """An attempt's expected dollars from its expected (mean) tokens (an estimate.Expected), at the
    profile's current prices; None when nothing is expected (no history) or it is unpriced."""
    if expected is None:
        return 0.0 if profile.provider == "builtin" else None
    return token_cost_usd(profile, round(expected.prompt_tokens), round(expected.completion_tokens), round(expected.cached_tokens))


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


def shares_of_servers(servers: list[tuple[float, int, float | None, float | None]], tokens: dict[str, int]
                      ) -> tuple[dict[str, float | None], dict[str, float | None]]:
    """Each attempt's GPU-seconds and dollars from one model's server sessions (uptime s, GPUs,
    USD per GPU-hour, USD per machine-hour), shared by the attempts' tokens. GPU-seconds are
    None for CPU servers, dollars None when any session is unpriced."""
    gpu_seconds = sum(uptime * gpus for uptime, gpus, _, _ in servers)
    costs = [server_cost_usd(*session) for session in servers]
    cost = None if None in costs else sum(costs)
    gpu_shares = share_by_tokens(gpu_seconds, tokens) if gpu_seconds else {}
    cost_shares = share_by_tokens(cost, tokens) if cost is not None else {}
    return ({key: gpu_shares.get(key) for key in tokens}, {key: cost_shares.get(key) for key in tokens})


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
