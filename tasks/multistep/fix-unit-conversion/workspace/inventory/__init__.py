"""Warehouse inventory helpers: items, unit conversion, shipping quotes, customs."""
