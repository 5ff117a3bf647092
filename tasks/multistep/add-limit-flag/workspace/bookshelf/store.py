from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Book:
    title: str
    author: str
    year: int | None = None
    rating: int | None = None  # 1..5, None = not rated yet
    read: bool = False


def load_books(path: str | Path) -> list[Book]:
    """Load the catalogue (a JSON list of objects) in file order."""
    with open(path, encoding="utf-8") as fh:
        raw = json.load(fh)
    return [
        Book(
            title=entry["title"],
            author=entry["author"],
            year=entry.get("year"),
            rating=entry.get("rating"),
            read=bool(entry.get("read", False)),
        )
        for entry in raw
    ]


def format_book(book: Book) -> str:
    year = book.year if book.year is not None else "n.d."
    rating = f"{book.rating}/5" if book.rating is not None else "unrated"
    return f"{book.title} by {book.author} ({year}) [{rating}]"
