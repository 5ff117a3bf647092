"""Text normalisation shared by the rest of textkit."""

from __future__ import annotations

import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")


def clean_text(text: str, *, lowercase: bool = True) -> str:
    """Normalise text for comparison and display.

    Applies Unicode NFKC normalisation, collapses every run of whitespace to a
    single space, strips both ends and (unless ``lowercase=False``) lower-cases.
    """
    text = unicodedata.normalize("NFKC", text)
    text = _WHITESPACE.sub(" ", text).strip()
    return text.lower() if lowercase else text
