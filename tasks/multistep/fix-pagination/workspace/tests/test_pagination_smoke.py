import pytest

from pagination import page_count, paginate


def test_per_page_must_be_positive():
    with pytest.raises(ValueError):
        page_count(10, 0)
    with pytest.raises(ValueError):
        paginate([1, 2, 3], 1, 0)


def test_page_zero_is_rejected():
    with pytest.raises(ValueError):
        paginate([1, 2, 3], 0, 2)
