"""textkit: small text utilities (normalisation, tokens, slugs, a tiny search index)."""

from textkit.normalize import clean_text
from textkit.search import Index
from textkit.slug import slugify
from textkit.tokens import tokenize, word_counts

__version__ = "1.4.0"

__all__ = ["clean_text", "Index", "slugify", "tokenize", "word_counts"]
