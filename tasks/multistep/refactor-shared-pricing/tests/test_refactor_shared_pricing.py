from fractions import Fraction

import pytest

from shop import cart, invoice, quotes
from shop.cart import Cart
from shop.invoice import render_invoice
from shop.quotes import quote_line

try:
    from shop import pricing
except ImportError:  # not extracted yet: the tests below fail individually
    pricing = None

PRICES = [0, 1, 3, 5, 7, 10, 33, 49, 50, 99, 101, 150, 199, 250, 333, 999, 1005, 1999, 12345]
QUANTITIES = [0, 1, 2, 3, 9, 10, 11, 17, 49, 50, 51, 99, 100, 101, 150, 250, 1000]


def ref_rate(quantity, member):
    rate = 12 if quantity >= 100 else 8 if quantity >= 50 else 5 if quantity >= 10 else 0
    return rate + (3 if member else 0)


def ref_total(unit, quantity, member):
    gross = unit * quantity
    exact = Fraction(gross * ref_rate(quantity, member), 100)
    discount = int(exact) + (1 if exact - int(exact) >= Fraction(1, 2) else 0)
    return gross - discount


def grid():
    for unit in PRICES:
        for qty in QUANTITIES:
            for member in (False, True):
                yield unit, qty, member


def test_shared_functions_exist():
    assert callable(pricing.line_total)
    assert callable(pricing.discount_rate)


def test_line_total_matches_original_rules():
    for unit, qty, member in grid():
        assert pricing.line_total(unit, qty, member) == ref_total(unit, qty, member), (unit, qty, member)
        assert pricing.line_total(unit_price_cents=unit, quantity=qty, member=member) == ref_total(unit, qty, member)
    assert pricing.line_total(1999, 12) == ref_total(1999, 12, False)


def test_discount_rate_matches_original_rules():
    for qty in QUANTITIES + [-1]:
        for member in (False, True):
            assert pricing.discount_rate(qty, member) == ref_rate(qty, member)
    assert pricing.discount_rate(10) == 5


def test_cart_behaviour_kept():
    for member in (False, True):
        c = Cart(member=member)
        expected = 0
        for i, unit in enumerate(PRICES):
            qty = QUANTITIES[i % len(QUANTITIES)]
            c.add(f"SKU{i}", unit, qty)
            expected += ref_total(unit, qty, member)
        assert c.total_cents() == expected
    c = Cart()
    c.add("A", 250, 6)
    c.add("A", 250, 6)
    assert c.line_totals() == {"A": ref_total(250, 12, False)}
    with pytest.raises(ValueError):
        c.add("A", 260, 1)


def test_quote_behaviour_kept():
    for unit, qty, member in grid():
        q = quote_line(unit, qty, member)
        net = ref_total(unit, qty, member)
        assert q == {"unit": unit, "quantity": qty, "gross": unit * qty, "discount": unit * qty - net, "net": net}
    assert quote_line(1999, 12)["net"] == ref_total(1999, 12, False)


def test_invoice_behaviour_kept():
    text = render_invoice([("PEN", 150, 3), ("BOX", 1999, 12), ("X", 5, 0), ("PAPER", 333, 150)], member=True)
    assert text == (
        "PEN           3 x     1.50 =       4.36  (-3%)\n"
        "BOX          12 x    19.99 =     220.69  (-8%)\n"
        "PAPER       150 x     3.33 =     424.57  (-15%)\n"
        "TOTAL                           649.62"
    )
    assert render_invoice([("PEN", 150, 3)]) == "PEN           3 x     1.50 =       4.50\nTOTAL                             4.50"
    for member in (False, True):
        lines = [(f"S{i}", unit, QUANTITIES[i % len(QUANTITIES)]) for i, unit in enumerate(PRICES)]
        total = sum(ref_total(u, q, member) for _, u, q in lines)
        last = render_invoice(lines, member=member).splitlines()[-1]
        assert last.split() == ["TOTAL", f"{total // 100}.{total % 100:02d}"]


@pytest.mark.parametrize("unit, qty", [(-1, 5), (5, -1), (-10, -10)])
def test_negative_inputs_still_raise(unit, qty):
    with pytest.raises(ValueError):
        pricing.line_total(unit, qty)
    with pytest.raises(ValueError):
        quote_line(unit, qty)
    with pytest.raises(ValueError):
        render_invoice([("A", unit, qty)])
    c = Cart()
    c.add("A", unit, qty)
    with pytest.raises(ValueError):
        c.total_cents()


def test_old_private_copies_removed():
    assert not hasattr(cart, "_line_price")
    assert not hasattr(invoice, "_discounted")
    assert not hasattr(invoice, "_rate")
    assert not hasattr(quotes, "_calc")


def patch_shared(monkeypatch, name, fake):
    monkeypatch.setattr(pricing, name, fake)
    for mod in (cart, invoice, quotes):
        if hasattr(mod, name):
            monkeypatch.setattr(mod, name, fake)


def recording_line_total(calls, result):
    def fake(unit_price_cents, quantity, member=False):
        calls.append((unit_price_cents, quantity, bool(member)))
        return result

    return fake


def test_cart_delegates_to_shared_line_total(monkeypatch):
    calls = []
    patch_shared(monkeypatch, "line_total", recording_line_total(calls, 1000))
    c = Cart(member=True)
    c.add("A", 250, 3)
    c.add("B", 99, 60)
    assert c.total_cents() == 2000
    assert sorted(calls) == [(99, 60, True), (250, 3, True)]


def test_quotes_delegate_to_shared_line_total(monkeypatch):
    calls = []
    patch_shared(monkeypatch, "line_total", recording_line_total(calls, 7))
    q = quote_line(300, 20, False)
    assert calls == [(300, 20, False)]
    assert q["net"] == 7
    assert q["gross"] == 6000
    assert q["discount"] == 6000 - 7


def test_invoice_delegates_to_shared_functions(monkeypatch):
    calls = []
    patch_shared(monkeypatch, "line_total", recording_line_total(calls, 123456))
    text = render_invoice([("A", 100, 2), ("B", 5, 0), ("C", 7, 30)], member=False)
    assert calls == [(100, 2, False), (7, 30, False)]
    assert text.splitlines()[-1].split() == ["TOTAL", "2469.12"]
    patch_shared(monkeypatch, "discount_rate", lambda quantity, member=False: 42)
    text = render_invoice([("A", 100, 2)], member=False)
    assert text.splitlines()[0].endswith("(-42%)")
