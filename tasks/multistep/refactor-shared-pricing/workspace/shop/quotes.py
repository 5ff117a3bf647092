from __future__ import annotations


def _calc(unit_price_cents: int, quantity: int, member: bool = False) -> tuple[int, int]:
    """Return (gross, discount) in cents for a quoted line."""
    if unit_price_cents < 0:
        raise ValueError("unit price must not be negative")
    if quantity < 0:
        raise ValueError("quantity must not be negative")
    gross = unit_price_cents * quantity
    pct = 0
    for threshold, tier_pct in ((10, 5), (50, 8), (100, 12)):
        if quantity >= threshold:
            pct = tier_pct
    if member:
        pct = pct + 3
    whole, rest = divmod(gross * pct, 100)
    if rest >= 50:
        whole += 1
    return gross, whole


def quote_line(unit_price_cents: int, quantity: int, member: bool = False) -> dict[str, int]:
    gross, discount = _calc(unit_price_cents, quantity, member)
    return {
        "unit": unit_price_cents,
        "quantity": quantity,
        "gross": gross,
        "discount": discount,
        "net": gross - discount,
    }
