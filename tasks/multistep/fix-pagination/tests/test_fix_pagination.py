import pytest

from listing import render
from pagination import Page, page_count, paginate


@pytest.mark.parametrize(
    "total, per_page, expected",
    [(0, 10, 0), (1, 10, 1), (10, 10, 1), (11, 10, 2), (20, 10, 2), (21, 10, 3), (7, 1, 7), (5, 3, 2)],
)
def test_page_count(total, per_page, expected):
    assert page_count(total, per_page) == expected


def test_page_count_rejects_bad_input():
    with pytest.raises(ValueError):
        page_count(5, 0)
    with pytest.raises(ValueError):
        page_count(-1, 5)


def test_first_page_starts_at_first_item():
    page = paginate(list(range(1, 11)), 1, 3)
    assert page.items == [1, 2, 3]
    assert page.number == 1
    assert page.total == 10
    assert page.pages == 4
    assert not page.has_prev
    assert page.has_next


def test_last_partial_page():
    page = paginate(list(range(1, 11)), 4, 3)
    assert page.items == [10]
    assert page.has_prev
    assert not page.has_next


def test_middle_page():
    assert paginate("abcdefg", 2, 3).items == ["d", "e", "f"]


def test_exact_fit_last_page():
    page = paginate(list(range(6)), 2, 3)
    assert page.items == [3, 4, 5]
    assert page.pages == 2
    assert not page.has_next


@pytest.mark.parametrize("n", [0, 1, 2, 5, 9, 10, 11])
@pytest.mark.parametrize("per_page", [1, 3, 10])
def test_pages_cover_every_item_exactly_once(n, per_page):
    items = list(range(n))
    pages = page_count(n, per_page)
    seen = []
    for number in range(1, max(pages, 1) + 1):
        page = paginate(items, number, per_page)
        assert 0 < len(page.items) <= per_page or n == 0
        seen.extend(page.items)
    assert seen == items


def test_page_past_the_end_is_rejected():
    with pytest.raises(ValueError):
        paginate(list(range(10)), 5, 3)
    with pytest.raises(ValueError):
        paginate(list(range(6)), 3, 3)


def test_page_below_one_is_rejected():
    with pytest.raises(ValueError):
        paginate([1, 2], 0, 1)
    with pytest.raises(ValueError):
        paginate([1, 2], -1, 1)


def test_empty_list_has_one_empty_page():
    page = paginate([], 1, 5)
    assert page == Page(items=[], number=1, per_page=5, total=0, pages=0)
    assert not page.has_next and not page.has_prev
    with pytest.raises(ValueError):
        paginate([], 2, 5)


def test_render_footer():
    text = render([f"n{i}" for i in range(12)], 2, per_page=5)
    assert text.splitlines() == ["- n5", "- n6", "- n7", "- n8", "- n9", "Page 2 of 3 (12 items)  [prev]  [next]"]
    last = render([f"n{i}" for i in range(12)], 3, per_page=5)
    assert last.splitlines() == ["- n10", "- n11", "Page 3 of 3 (12 items)  [prev]"]
