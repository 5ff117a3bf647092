from inventory.models import Item
from inventory.shipping import billable_weight_kg, quote_cents


def test_metric_item_quote():
    box = Item("BOX-1", 2.0, "kg", 30, 20, 10, "cm")
    assert billable_weight_kg(box) == 2.0
    assert quote_cents([box], "domestic") == 450 + 180 * 2
