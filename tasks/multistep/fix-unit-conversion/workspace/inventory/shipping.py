"""Parcel shipping quotes.

Billing rules (from the carrier contract):
- each item's billable weight is the larger of its actual weight and its volumetric
  weight (length x width x height in cm, divided by 5000), in kg;
- the billable weight is rounded UP to the next 0.5 kg step;
- a quote is the zone's base fee plus the zone's per-kg rate times the summed
  billable weight of all items (times their quantity), in cents.
"""

from __future__ import annotations

from .models import Item
from .units import convert_length, convert_weight

VOLUMETRIC_DIVISOR = 5000.0  # cm^3 per kg
STEP_KG = 0.5
ZONES = {
    "domestic": (450, 180),  # (base fee, per kg) in cents
    "eu": (900, 340),
    "world": (1500, 620),
}


def actual_weight_kg(item: Item) -> float:
    return convert_weight(item.weight, "kg", item.weight_unit)


def volumetric_weight_kg(item: Item) -> float:
    dims = [convert_length(d, item.dim_unit, "cm") for d in (item.length, item.width, item.height)]
    return dims[0] * dims[1] * dims[2] / VOLUMETRIC_DIVISOR


def billable_weight_kg(item: Item) -> float:
    weight = max(actual_weight_kg(item), volumetric_weight_kg(item))
    return round(weight / STEP_KG) * STEP_KG


def quote_cents(items: list[Item], zone: str) -> int:
    try:
        base, per_kg = ZONES[zone]
    except KeyError:
        raise ValueError(f"unknown zone: {zone!r}") from None
    total_kg = sum(billable_weight_kg(item) * item.quantity for item in items)
    return int(round(base + per_kg * total_kg))
