def format_cents(cents: int) -> str:
    """1999 -> '19.99' (cents are never negative in this shop)."""
    return f"{cents // 100}.{cents % 100:02d}"
