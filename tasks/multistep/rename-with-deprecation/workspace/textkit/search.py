"""A tiny in-memory full-text index."""

from __future__ import annotations

from collections import defaultdict

from textkit.normalize import clean_text
from textkit.tokens import tokenize


class Index:
    def __init__(self) -> None:
        self._docs: dict[str, str] = {}
        self._postings: dict[str, set[str]] = defaultdict(set)

    def add(self, doc_id: str, text: str) -> None:
        self._docs[doc_id] = clean_text(text, lowercase=False)
        for token in tokenize(text):
            self._postings[token].add(doc_id)

    def search(self, query: str) -> list[str]:
        """Ids of the documents containing every word of the query, sorted."""
        tokens = tokenize(query)
        if not tokens:
            return []
        hits = set.intersection(*(self._postings.get(t, set()) for t in tokens))
        return sorted(hits)

    def snippet(self, doc_id: str, width: int = 40) -> str:
        text = self._docs[doc_id]
        return text if len(text) <= width else text[: width - 1] + "…"
