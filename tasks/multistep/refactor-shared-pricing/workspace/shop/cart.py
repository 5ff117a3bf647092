from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal


def _line_price(unit_price_cents: int, quantity: int, member: bool) -> int:
    """Price of one cart line after volume and member discounts, in cents."""
    if unit_price_cents < 0 or quantity < 0:
        raise ValueError("price and quantity must not be negative")
    gross = unit_price_cents * quantity
    if quantity >= 100:
        percent = 12
    elif quantity >= 50:
        percent = 8
    elif quantity >= 10:
        percent = 5
    else:
        percent = 0
    if member:
        percent += 3
    discount = (Decimal(gross) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return gross - int(discount)


@dataclass
class Cart:
    member: bool = False
    lines: dict[str, tuple[int, int]] = field(default_factory=dict)  # sku -> (unit cents, qty)

    def add(self, sku: str, unit_price_cents: int, quantity: int = 1) -> None:
        price, qty = self.lines.get(sku, (unit_price_cents, 0))
        if price != unit_price_cents:
            raise ValueError(f"{sku}: price changed from {price} to {unit_price_cents}")
        self.lines[sku] = (unit_price_cents, qty + quantity)

    def line_totals(self) -> dict[str, int]:
        return {sku: _line_price(price, qty, self.member) for sku, (price, qty) in self.lines.items()}

    def total_cents(self) -> int:
        return sum(self.line_totals().values())
