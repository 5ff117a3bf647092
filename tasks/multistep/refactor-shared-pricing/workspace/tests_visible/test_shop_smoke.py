from shop.cart import Cart
from shop.invoice import render_invoice
from shop.quotes import quote_line


def test_small_order_has_no_discount():
    cart = Cart()
    cart.add("PEN", 150, 3)
    assert cart.total_cents() == 450
    assert quote_line(150, 3)["net"] == 450
    assert render_invoice([("PEN", 150, 3)]).splitlines()[-1].endswith("4.50")
