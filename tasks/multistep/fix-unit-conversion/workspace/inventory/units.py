"""Unit conversion for weights and lengths."""

from __future__ import annotations

GRAMS_PER = {"g": 1.0, "kg": 1000.0, "oz": 28.349523125, "lb": 453.59237}
CM_PER = {"mm": 0.1, "cm": 1.0, "m": 100.0, "in": 2.54}


def _factor(table: dict[str, float], unit: str, kind: str) -> float:
    try:
        return table[unit]
    except KeyError:
        raise ValueError(f"unknown {kind} unit: {unit!r}") from None


def convert_weight(value: float, from_unit: str, to_unit: str) -> float:
    """Convert `value` expressed in `from_unit` into `to_unit`."""
    return value * _factor(GRAMS_PER, to_unit, "weight") / _factor(GRAMS_PER, from_unit, "weight")


def convert_length(value: float, from_unit: str, to_unit: str) -> float:
    """Convert `value` expressed in `from_unit` into `to_unit`."""
    return value * _factor(CM_PER, to_unit, "length") / _factor(CM_PER, from_unit, "length")
