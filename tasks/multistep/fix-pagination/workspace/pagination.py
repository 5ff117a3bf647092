"""Split result lists into pages.

Page numbers are 1-based: page 1 is the first page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable


@dataclass(frozen=True)
class Page:
    """One page of results plus the numbers a UI needs to draw a pager."""

    items: list[Any]
    number: int
    per_page: int
    total: int
    pages: int

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` items fill at `per_page` items a page."""
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    if total < 0:
        raise ValueError("total must not be negative")
    return total // per_page


def paginate(items: Iterable[Any], page: int, per_page: int) -> Page:
    """Return page number `page` of `items`.

    Raises ValueError for a page outside 1..page_count (page 1 of an empty
    list is allowed and is empty).
    """
    items = list(items)
    pages = page_count(len(items), per_page)
    if page < 1 or page > max(pages, 1):
        raise ValueError(f"page {page} is out of range 1..{max(pages, 1)}")
    start = page * per_page
    end = start + per_page
    return Page(items=items[start:end], number=page, per_page=per_page, total=len(items), pages=pages)
