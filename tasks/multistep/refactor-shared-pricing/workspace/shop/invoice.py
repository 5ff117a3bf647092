from __future__ import annotations

from .money import format_cents

# quantity threshold -> volume discount in percent, highest first
VOLUME_TIERS = [(100, 12), (50, 8), (10, 5)]
MEMBER_BONUS = 3


def _rate(quantity: int, member: bool) -> int:
    rate = next((pct for threshold, pct in VOLUME_TIERS if quantity >= threshold), 0)
    return rate + (MEMBER_BONUS if member else 0)


def _discounted(unit_price_cents: int, quantity: int, member: bool) -> int:
    if min(unit_price_cents, quantity) < 0:
        raise ValueError("negative price or quantity")
    gross = unit_price_cents * quantity
    return gross - (gross * _rate(quantity, member) + 50) // 100


def render_invoice(lines: list[tuple[str, int, int]], member: bool = False) -> str:
    """lines: (sku, unit price cents, quantity). Zero-quantity lines are left out."""
    out = []
    total = 0
    for sku, unit, qty in lines:
        if qty == 0:
            continue
        net = _discounted(unit, qty, member)
        total += net
        row = f"{sku:<10}{qty:>5} x {format_cents(unit):>8} = {format_cents(net):>10}"
        rate = _rate(qty, member)
        if rate:
            row += f"  (-{rate}%)"
        out.append(row)
    out.append(f"{'TOTAL':<27}{format_cents(total):>11}")
    return "\n".join(out)
