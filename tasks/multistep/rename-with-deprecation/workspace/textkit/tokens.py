"""Splitting text into word tokens."""

from __future__ import annotations

import re
from collections import Counter
from typing import Callable

from textkit.normalize import clean_text

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


def tokenize(text: str, normalizer: Callable[[str], str] = clean_text) -> list[str]:
    """Words of `text` after normalisation, in order."""
    return _WORD.findall(normalizer(text))


def word_counts(text: str) -> Counter[str]:
    return Counter(tokenize(text))
