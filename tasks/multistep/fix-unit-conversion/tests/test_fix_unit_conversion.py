import pytest

from inventory.customs import declaration_line, declared_weight_lb
from inventory.models import Item
from inventory.shipping import actual_weight_kg, billable_weight_kg, quote_cents, volumetric_weight_kg
from inventory.units import convert_length, convert_weight


@pytest.mark.parametrize(
    "value, src, dst, expected",
    [
        (1, "kg", "g", 1000.0),
        (1500, "g", "kg", 1.5),
        (1, "lb", "kg", 0.45359237),
        (1, "kg", "lb", 2.2046226218),
        (16, "oz", "lb", 1.0),
        (1, "lb", "oz", 16.0),
        (2.5, "kg", "kg", 2.5),
    ],
)
def test_convert_weight(value, src, dst, expected):
    assert convert_weight(value, src, dst) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    "value, src, dst, expected",
    [(1, "in", "cm", 2.54), (254, "cm", "in", 100.0), (1, "m", "mm", 1000.0), (35, "mm", "cm", 3.5), (2, "m", "in", 78.74015748)],
)
def test_convert_length(value, src, dst, expected):
    assert convert_length(value, src, dst) == pytest.approx(expected, rel=1e-9)


def test_unknown_units_raise_value_error():
    with pytest.raises(ValueError):
        convert_weight(1, "stone", "kg")
    with pytest.raises(ValueError):
        convert_length(1, "cm", "ft")


@pytest.mark.parametrize(
    "item, expected",
    [
        (Item("A", 2.2, "lb", 10, 10, 10), 0.997903214),
        (Item("B", 16, "oz", 10, 10, 10), 0.45359237),
        (Item("C", 1250, "g", 10, 10, 10), 1.25),
        (Item("D", 3, "kg", 10, 10, 10), 3.0),
    ],
)
def test_actual_weight_kg(item, expected):
    assert actual_weight_kg(item) == pytest.approx(expected, rel=1e-9)


def test_volumetric_weight_in_inches_and_mm():
    assert volumetric_weight_kg(Item("C", 1, "kg", 10, 10, 10, "in")) == pytest.approx(3.2774128, rel=1e-9)
    assert volumetric_weight_kg(Item("F", 1, "kg", 500, 400, 250, "mm")) == pytest.approx(10.0, rel=1e-9)
    assert volumetric_weight_kg(Item("M", 1, "kg", 1.1, 0.5, 0.1, "m")) == pytest.approx(11.0, rel=1e-9)


@pytest.mark.parametrize(
    "item, expected",
    [
        (Item("A", 2.2, "lb", 10, 10, 10), 1.0),
        (Item("B", 16, "oz", 10, 10, 10), 0.5),
        (Item("C", 1, "kg", 10, 10, 10, "in"), 3.5),
        (Item("E", 1010, "g", 10, 10, 10), 1.5),
        (Item("H", 1.0, "kg", 10, 10, 10), 1.0),
        (Item("L", 0.2, "kg", 10, 10, 10), 0.5),
        (Item("N", 2.6, "kg", 10, 10, 10), 3.0),
        (Item("G", 12.3, "lb", 12, 8, 4, "in"), 6.0),
    ],
)
def test_billable_weight_rounds_up_to_half_kg(item, expected):
    assert billable_weight_kg(item) == pytest.approx(expected)


def test_exact_step_boundaries_are_not_pushed_up_by_float_noise():
    assert billable_weight_kg(Item("M", 3, "kg", 1.1, 0.5, 0.1, "m")) == pytest.approx(11.0)
    assert billable_weight_kg(Item("F", 0.2, "kg", 500, 400, 250, "mm")) == pytest.approx(10.0)


ITEMS = [
    Item("A", 2.2, "lb", 10, 10, 10, "cm"),
    Item("B", 16, "oz", 10, 10, 10, "cm"),
    Item("C", 1, "kg", 10, 10, 10, "in"),
    Item("D", 3, "kg", 1.1, 0.5, 0.1, "m"),
    Item("E", 1000, "g", 10, 10, 10, "cm", 3),
    Item("F", 0.2, "kg", 500, 400, 250, "mm"),
    Item("G", 12.3, "lb", 12, 8, 4, "in", 2),
]


def test_quotes_for_mixed_units():
    assert quote_cents(ITEMS, "domestic") == 450 + 180 * 41
    assert quote_cents(ITEMS, "eu") == 14840
    assert quote_cents(ITEMS, "world") == 26920
    assert quote_cents([Item("B", 16, "oz", 10, 10, 10)], "domestic") == 450 + 90
    with pytest.raises(ValueError):
        quote_cents(ITEMS, "moon")


def test_customs_declared_weight_in_pounds():
    assert declared_weight_lb(ITEMS) == pytest.approx(43.67)
    assert declared_weight_lb([Item("X", 1, "kg", 1, 1, 1)]) == pytest.approx(2.2)
    assert declared_weight_lb([Item("Y", 32, "oz", 1, 1, 1, "cm", 2)]) == pytest.approx(4.0)


def test_customs_declaration_line():
    assert declaration_line(Item("G", 12.3, "lb", 12, 8, 4, "in", 2)) == "G x2: 24.60 lb"
    assert declaration_line(Item("E", 1000, "g", 10, 10, 10, "cm", 3)) == "E x3: 6.61 lb"
    assert declaration_line(Item("B", 8, "oz", 1, 1, 1)) == "B x1: 0.50 lb"
