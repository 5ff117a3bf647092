import pytest

from rates import RateClient
from ttlcache import TTLCache


class FakeClock:
    def __init__(self, now=0.0):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


def make(maxsize=3, ttl=10, start=0.0):
    clock = FakeClock(start)
    return TTLCache(maxsize, ttl, clock=clock), clock


def test_set_get_and_default():
    cache, _ = make()
    cache.set("a", 1)
    assert cache.get("a") == 1
    assert cache.get("missing") is None
    assert cache.get("missing", "dflt") == "dflt"
    assert "a" in cache and "missing" not in cache
    assert len(cache) == 1


def test_entry_expires_exactly_at_ttl():
    cache, clock = make(ttl=10, start=100.0)
    cache.set("a", 1)
    clock.advance(9.999)
    assert cache.get("a") == 1
    clock.advance(0.001)
    assert cache.get("a") is None
    assert cache.get("a", "gone") == "gone"
    assert "a" not in cache
    assert len(cache) == 0


def test_per_entry_ttl_overrides_default():
    cache, clock = make(ttl=10)
    cache.set("short", 1, ttl=2)
    cache.set("long", 2, ttl=50)
    cache.set("default", 3)
    clock.advance(2)
    assert "short" not in cache
    clock.advance(8)
    assert "default" not in cache
    assert cache.get("long") == 2
    clock.advance(40)
    assert cache.get("long") is None


def test_len_counts_only_live_entries():
    cache, clock = make(maxsize=5, ttl=10)
    cache.set("a", 1, ttl=1)
    cache.set("b", 2, ttl=3)
    cache.set("c", 3)
    assert len(cache) == 3
    clock.advance(1)
    assert len(cache) == 2
    clock.advance(2)
    assert len(cache) == 1
    assert cache.keys() == ["c"]


def test_overwrite_replaces_value_and_resets_ttl():
    cache, clock = make(ttl=10)
    cache.set("a", 1)
    clock.advance(8)
    cache.set("a", 2)
    clock.advance(7)
    assert cache.get("a") == 2
    clock.advance(3)
    assert cache.get("a") is None


def test_lru_eviction_when_full():
    cache, _ = make(maxsize=3)
    for key in "abc":
        cache.set(key, key.upper())
    cache.set("d", "D")
    assert "a" not in cache
    assert cache.keys() == ["b", "c", "d"]
    assert len(cache) == 3


def test_get_marks_entry_most_recently_used():
    cache, _ = make(maxsize=3)
    for key in "abc":
        cache.set(key, 0)
    assert cache.get("a") == 0
    assert cache.keys() == ["b", "c", "a"]
    cache.set("d", 0)
    assert cache.keys() == ["c", "a", "d"]


def test_overwrite_marks_most_recently_used_and_does_not_evict():
    cache, _ = make(maxsize=2)
    cache.set("a", 1)
    cache.set("b", 2)
    cache.set("a", 3)
    assert cache.keys() == ["b", "a"]
    assert cache.get("b") == 2
    cache.set("c", 4)
    assert cache.keys() == ["b", "c"]


def test_contains_len_and_keys_do_not_change_recency():
    cache, _ = make(maxsize=2)
    cache.set("a", 1)
    cache.set("b", 2)
    assert "a" in cache
    assert len(cache) == 2
    assert cache.keys() == ["a", "b"]
    cache.set("c", 3)
    assert cache.keys() == ["b", "c"]


def test_failed_get_does_not_change_recency():
    cache, _ = make(maxsize=2)
    cache.set("a", 1)
    cache.set("b", 2)
    assert cache.get("zzz") is None
    cache.set("c", 3)
    assert cache.keys() == ["b", "c"]


def test_expired_entries_are_dropped_before_lru_eviction():
    cache, clock = make(maxsize=3, ttl=100)
    cache.set("a", 1)
    cache.set("b", 2)
    cache.set("c", 3, ttl=5)
    clock.advance(6)
    cache.set("d", 4)
    assert cache.keys() == ["a", "b", "d"]
    assert cache.get("a") == 1


def test_all_expired_entries_are_dropped_on_insert():
    cache, clock = make(maxsize=3, ttl=100)
    cache.set("a", 1, ttl=1)
    cache.set("b", 2)
    cache.set("c", 3, ttl=1)
    clock.advance(1)
    cache.set("d", 4)
    cache.set("e", 5)
    assert cache.keys() == ["b", "d", "e"]


def test_never_holds_more_than_maxsize():
    cache, clock = make(maxsize=2, ttl=10)
    for i in range(20):
        cache.set(i, i)
        clock.advance(1)
        assert len(cache) <= 2
    assert cache.keys() == [18, 19]


def test_delete():
    cache, clock = make(ttl=10)
    cache.set("a", 1)
    cache.set("b", 2, ttl=1)
    assert cache.delete("a") is True
    assert "a" not in cache
    assert cache.delete("a") is False
    assert cache.delete("never") is False
    clock.advance(1)
    assert cache.delete("b") is False
    assert len(cache) == 0


def test_delete_frees_a_slot():
    cache, _ = make(maxsize=2)
    cache.set("a", 1)
    cache.set("b", 2)
    cache.delete("b")
    cache.set("c", 3)
    assert cache.keys() == ["a", "c"]


def test_expired_key_can_be_set_again():
    cache, clock = make(maxsize=2, ttl=5)
    cache.set("a", 1)
    cache.set("b", 2, ttl=50)
    clock.advance(5)
    cache.set("a", 3)
    assert cache.keys() == ["b", "a"]
    assert cache.get("a") == 3


def test_none_value_is_stored():
    cache, _ = make()
    cache.set("a", None)
    assert "a" in cache
    assert cache.get("a", "dflt") is None


@pytest.mark.parametrize("maxsize", [0, -1])
def test_bad_maxsize(maxsize):
    with pytest.raises(ValueError):
        TTLCache(maxsize, 10, clock=FakeClock())


@pytest.mark.parametrize("ttl", [0, -5])
def test_bad_ttl(ttl):
    with pytest.raises(ValueError):
        TTLCache(2, ttl, clock=FakeClock())
    cache, _ = make()
    with pytest.raises(ValueError):
        cache.set("a", 1, ttl=ttl)


def test_default_clock_works():
    cache = TTLCache(2, 60)
    cache.set("a", 1)
    assert cache.get("a") == 1


def test_rate_client_uses_cache_until_expiry():
    clock = FakeClock()
    calls = []

    def fetch(pair):
        calls.append(pair)
        return 1.25

    client = RateClient(fetch, TTLCache(10, 300, clock=clock))
    assert client.rate("EURUSD") == 1.25
    clock.advance(299)
    assert client.rate("EURUSD") == 1.25
    assert calls == ["EURUSD"]
    clock.advance(1)
    client.rate("EURUSD")
    assert calls == ["EURUSD", "EURUSD"]
