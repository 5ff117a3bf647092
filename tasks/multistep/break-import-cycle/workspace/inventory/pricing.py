"""Shelf prices: category discounts plus sales tax, in integer cents."""

from __future__ import annotations

from dataclasses import dataclass

from inventory.models import Category, Item
from inventory.validation import ValidationError

TAX_RATES = {Category.FOOD: 0, Category.TOOLS: 20, Category.TOYS: 10}  # percent


@dataclass(frozen=True)
class PriceRule:
    """A percentage discount on every item of one category."""

    category: Category
    percent_off: int

    def __post_init__(self) -> None:
        if not 0 <= self.percent_off <= 90:
            raise ValidationError(f"discount {self.percent_off}% outside 0..90")


def price_item(item: Item, rules=()) -> int:
    """Unit shelf price in cents: the best matching discount, then tax, rounded half up."""
    if not isinstance(item, Item):
        raise TypeError(f"expected Item, got {type(item).__name__}")
    percent_off = max((r.percent_off for r in rules if r.category is item.category), default=0)
    tax = TAX_RATES[item.category]
    return (item.unit_price_cents * (100 - percent_off) * (100 + tax) + 5000) // 10000
