"""Validation rules for inventory data."""

from __future__ import annotations

import re

from inventory.models import Category, Item
from inventory.pricing import price_item

SKU_RE = re.compile(r"[A-Z]{3}-\d{4}")
MAX_FOOD_STOCK = 500
MAX_SHELF_PRICE_CENTS = 100_000


class ValidationError(ValueError):
    """Raised for data that breaks an inventory rule."""


def check_sku(sku: str) -> None:
    if not isinstance(sku, str) or not SKU_RE.fullmatch(sku):
        raise ValidationError(f"bad sku {sku!r}: expected e.g. ABC-1234")


def validate_item(item: Item) -> list[str]:
    """Business-rule problems with an item (an empty list when it is fine)."""
    if not isinstance(item, Item):
        raise TypeError(f"expected Item, got {type(item).__name__}")
    problems = []
    if not item.name.strip():
        problems.append(f"{item.sku}: empty name")
    if item.category is Category.FOOD and item.quantity > MAX_FOOD_STOCK:
        problems.append(f"{item.sku}: more than {MAX_FOOD_STOCK} units of food")
    if price_item(item) > MAX_SHELF_PRICE_CENTS:
        problems.append(f"{item.sku}: shelf price above {MAX_SHELF_PRICE_CENTS} cents")
    return problems
