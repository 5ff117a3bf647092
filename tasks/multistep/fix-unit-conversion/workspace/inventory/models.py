from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    """One catalogue item as stored by the warehouse system.

    Weights and dimensions are kept in whatever unit the supplier used:
    weight_unit is one of "g", "kg", "oz", "lb"; dim_unit one of "mm", "cm", "m", "in".
    """

    sku: str
    weight: float
    weight_unit: str
    length: float
    width: float
    height: float
    dim_unit: str = "cm"
    quantity: int = 1
