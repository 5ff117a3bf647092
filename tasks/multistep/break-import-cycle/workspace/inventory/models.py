"""The core data model: items and the warehouses that stock them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from inventory.pricing import price_item
from inventory.validation import ValidationError, check_sku


class Category(Enum):
    FOOD = "food"
    TOOLS = "tools"
    TOYS = "toys"


@dataclass
class Item:
    sku: str
    name: str
    category: Category
    unit_price_cents: int
    quantity: int = 0

    def __post_init__(self) -> None:
        check_sku(self.sku)
        if self.unit_price_cents < 0:
            raise ValidationError(f"{self.sku}: negative price")
        if self.quantity < 0:
            raise ValidationError(f"{self.sku}: negative quantity")


@dataclass
class Warehouse:
    name: str
    items: dict[str, Item] = field(default_factory=dict)

    def add(self, item: Item) -> None:
        if item.sku in self.items:
            raise ValidationError(f"duplicate sku {item.sku}")
        self.items[item.sku] = item

    def total_value_cents(self, rules=()) -> int:
        """Value of all stock at shelf price (after discounts and tax)."""
        return sum(price_item(item, rules) * item.quantity for item in self.items.values())
