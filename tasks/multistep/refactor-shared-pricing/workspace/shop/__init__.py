"""shop: cart, invoices and sales quotes for the B2B web shop. Prices are integer cents."""
