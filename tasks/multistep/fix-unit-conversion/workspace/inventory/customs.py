"""Customs declaration helpers (US forms want pounds)."""

from __future__ import annotations

from .models import Item
from .units import convert_weight


def declared_weight_lb(items: list[Item]) -> float:
    """Total actual weight of the shipment in pounds, rounded to 2 decimals."""
    total = sum(convert_weight(item.weight, item.weight_unit, "lb") * item.quantity for item in items)
    return round(total, 2)


def declaration_line(item: Item) -> str:
    lb = convert_weight(item.weight, item.weight_unit, "lb")
    return f"{item.sku} x{item.quantity}: {lb * item.quantity:.2f} lb"
