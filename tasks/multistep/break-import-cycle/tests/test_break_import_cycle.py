import subprocess
import sys

import pytest

MODULES = ["inventory", "inventory.models", "inventory.pricing", "inventory.validation"]


def fresh_python(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20)


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_first_in_a_fresh_interpreter(module):
    proc = fresh_python(f"import {module}")
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("first", MODULES)
@pytest.mark.parametrize("second", MODULES)
def test_import_order_does_not_matter(first, second):
    proc = fresh_python(f"import {first}; import {second}; import inventory; inventory.Item('ABC-0001', 'x', inventory.Category.FOOD, 1)")
    assert proc.returncode == 0, proc.stderr


def test_stock_report_script_runs():
    proc = subprocess.run([sys.executable, "stock_report.py"], capture_output=True, text=True, timeout=20)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "FOO-0001 Apples (1kg)   x120  ok",
        "TOL-0001 Hammer         x15   ok",
        "TOY-0001 Kite           x8    ok",
        "total value: 861.13",
    ]


PUBLIC = {
    "inventory": [
        "Category", "Item", "Warehouse", "TAX_RATES", "PriceRule", "price_item", "ValidationError", "check_sku", "validate_item",
    ],
    "inventory.models": ["Category", "Item", "Warehouse"],
    "inventory.pricing": ["TAX_RATES", "PriceRule", "price_item"],
    "inventory.validation": [
        "SKU_RE", "MAX_FOOD_STOCK", "MAX_SHELF_PRICE_CENTS", "ValidationError", "check_sku", "validate_item",
    ],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names_still_import_from_where_they_did(module):
    names = ", ".join(PUBLIC[module])
    proc = fresh_python(f"from {module} import {names}")
    assert proc.returncode == 0, proc.stderr


def test_package_all_is_unchanged():
    import inventory

    assert sorted(inventory.__all__) == sorted(PUBLIC["inventory"])


def test_names_are_the_same_objects_everywhere():
    import inventory
    import inventory.models as models
    import inventory.pricing as pricing
    import inventory.validation as validation

    for module in (models, pricing, validation):
        for name in PUBLIC[module.__name__]:
            assert getattr(module, name) is getattr(inventory, name, getattr(module, name)), (module.__name__, name)
    assert models.Item is inventory.Item
    assert models.Category is inventory.Category
    assert validation.ValidationError is inventory.ValidationError
    assert issubclass(inventory.ValidationError, ValueError)
    assert validation.MAX_FOOD_STOCK == 500
    assert validation.MAX_SHELF_PRICE_CENTS == 100_000
    assert validation.SKU_RE.pattern == r"[A-Z]{3}-\d{4}"


def test_item_validation_behaviour():
    from inventory.models import Category, Item
    from inventory.validation import ValidationError

    item = Item("ABC-1234", "Widget", Category.TOOLS, 1000, 3)
    assert (item.sku, item.name, item.category, item.unit_price_cents, item.quantity) == ("ABC-1234", "Widget", Category.TOOLS, 1000, 3)
    assert Item("ABC-1234", "Widget", Category.TOOLS, 1000).quantity == 0
    with pytest.raises(ValidationError, match="bad sku"):
        Item("abc-1234", "Widget", Category.TOOLS, 1000)
    with pytest.raises(ValidationError, match="negative price"):
        Item("ABC-1234", "Widget", Category.TOOLS, -1)
    with pytest.raises(ValidationError, match="negative quantity"):
        Item("ABC-1234", "Widget", Category.TOOLS, 1, -2)


def test_check_sku():
    from inventory.validation import ValidationError, check_sku

    check_sku("XYZ-0000")
    for bad in ["XY-0000", "XYZ-000", "XYZ-00000", "xyz-0000", 1234]:
        with pytest.raises(ValidationError):
            check_sku(bad)


def test_pricing_behaviour():
    from inventory import Category, Item, PriceRule, ValidationError, price_item

    tool = Item("TOL-0001", "Hammer", Category.TOOLS, 1999, 1)
    assert price_item(tool) == 2399
    toy = Item("TOY-0001", "Kite", Category.TOYS, 1250, 1)
    rules = [PriceRule(Category.TOYS, 10), PriceRule(Category.TOYS, 25), PriceRule(Category.TOOLS, 50)]
    assert price_item(toy, rules) == 1031
    assert price_item(Item("FOO-0001", "Bread", Category.FOOD, 299), rules) == 299
    with pytest.raises(TypeError):
        price_item("TOY-0001")
    with pytest.raises(ValidationError):
        PriceRule(Category.FOOD, 91)
    with pytest.raises(ValidationError):
        PriceRule(Category.FOOD, -1)


def test_validate_item_behaviour():
    from inventory import Category, Item, validate_item

    assert validate_item(Item("FOO-0001", "Rice", Category.FOOD, 100, 500)) == []
    assert validate_item(Item("FOO-0001", " ", Category.FOOD, 100, 501)) == [
        "FOO-0001: empty name",
        "FOO-0001: more than 500 units of food",
    ]
    assert validate_item(Item("TOL-0002", "Lathe", Category.TOOLS, 90_000)) == ["TOL-0002: shelf price above 100000 cents"]
    with pytest.raises(TypeError):
        validate_item(object())


def test_warehouse_behaviour():
    from inventory import Category, Item, PriceRule, ValidationError, Warehouse

    wh = Warehouse("Depot")
    wh.add(Item("TOL-0001", "Hammer", Category.TOOLS, 1999, 15))
    wh.add(Item("TOY-0001", "Kite", Category.TOYS, 1250, 8))
    with pytest.raises(ValidationError, match="duplicate"):
        wh.add(Item("TOY-0001", "Kite", Category.TOYS, 1250, 1))
    assert wh.total_value_cents() == 2399 * 15 + 1375 * 8
    assert wh.total_value_cents([PriceRule(Category.TOYS, 25)]) == 2399 * 15 + 1031 * 8
    assert Warehouse("Empty").total_value_cents() == 0
