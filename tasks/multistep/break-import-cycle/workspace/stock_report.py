"""Print a stock report for the demo warehouse: python3 stock_report.py"""

from inventory import Category, Item, PriceRule, Warehouse, validate_item


def demo_warehouse() -> Warehouse:
    wh = Warehouse("Main St")
    wh.add(Item("FOO-0001", "Apples (1kg)", Category.FOOD, 349, 120))
    wh.add(Item("TOL-0001", "Hammer", Category.TOOLS, 1999, 15))
    wh.add(Item("TOY-0001", "Kite", Category.TOYS, 1250, 8))
    return wh


def main() -> None:
    wh = demo_warehouse()
    rules = [PriceRule(Category.TOYS, 25)]
    for item in wh.items.values():
        problems = validate_item(item)
        print(f"{item.sku} {item.name:<14} x{item.quantity:<4} {'; '.join(problems) or 'ok'}")
    print(f"total value: {wh.total_value_cents(rules) / 100:.2f}")


if __name__ == "__main__":
    main()
