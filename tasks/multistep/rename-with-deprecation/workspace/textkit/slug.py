"""URL slugs."""

from __future__ import annotations

import re
import unicodedata

from textkit import normalize


def slugify(text: str, max_length: int = 50) -> str:
    """ASCII, lower-case, hyphen-separated slug of at most `max_length` characters."""
    text = normalize.clean_text(text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return slug[:max_length].rstrip("-")
