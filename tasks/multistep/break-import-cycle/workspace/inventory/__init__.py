"""Inventory: items, warehouses, pricing and validation."""

from inventory.models import Category, Item, Warehouse
from inventory.pricing import TAX_RATES, PriceRule, price_item
from inventory.validation import ValidationError, check_sku, validate_item

__all__ = [
    "Category",
    "Item",
    "Warehouse",
    "TAX_RATES",
    "PriceRule",
    "price_item",
    "ValidationError",
    "check_sku",
    "validate_item",
]
