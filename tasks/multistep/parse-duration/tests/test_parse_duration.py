import pytest

from durations import format_duration, parse_duration
from scheduler import Job


@pytest.mark.parametrize(
    "text, expected",
    [
        ("90s", 90),
        ("1h30m", 5400),
        ("2d 4h", 187200),
        ("2d   4h", 187200),
        ("1h 30m", 5400),
        ("1h\t30m", 5400),
        ("1w", 604800),
        ("1w2d3h4m5s", 788645),
        ("  1w 2d 3h 4m 5s \n", 788645),
        ("1H30M", 5400),
        ("2D4h", 187200),
        ("007s", 7),
        ("15m", 900),
        ("100h", 360000),
        ("90", 90),
        ("  45 ", 45),
        ("0", 0),
        ("0s", 0),
        ("0h0m", 0),
        ("1d0s", 86400),
        ("3m7s", 187),
    ],
)
def test_parse_valid(text, expected):
    result = parse_duration(text)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "h",
        "s1",
        "1.5h",
        "-5m",
        "+5m",
        "5 m",
        "1 h 30 m",
        "5y",
        "1hr",
        "1h 30",
        "30 1h",
        "1h,30m",
        "30m1h",
        "1s1m",
        "1h1h",
        "1h30m1h",
        "1hh",
        "1h-30m",
        "\u0663m",
        "\u00b2",
        "1e3s",
    ],
)
def test_parse_invalid_raises_value_error(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("value", [None, 90, 1.5, b"1h"])
def test_parse_non_string_raises_type_error(value):
    with pytest.raises(TypeError):
        parse_duration(value)


@pytest.mark.parametrize(
    "seconds, expected",
    [
        (0, "0s"),
        (1, "1s"),
        (59, "59s"),
        (60, "1m"),
        (90, "1m30s"),
        (3600, "1h"),
        (5400, "1h30m"),
        (86400, "1d"),
        (187200, "2d4h"),
        (604800, "1w"),
        (694861, "1w1d1h1m1s"),
        (1209600, "2w"),
        (1209601, "2w1s"),
        (6048000, "10w"),
    ],
)
def test_format(seconds, expected):
    assert format_duration(seconds) == expected


def test_format_negative_raises_value_error():
    with pytest.raises(ValueError):
        format_duration(-1)


@pytest.mark.parametrize("value", [1.0, True, False, "60", None])
def test_format_non_int_raises_type_error(value):
    with pytest.raises(TypeError):
        format_duration(value)


def test_round_trip():
    for n in list(range(0, 4000, 7)) + [86399, 86400, 86401, 604799, 604800, 10**7 + 3]:
        assert parse_duration(format_duration(n)) == n


def test_scheduler_uses_durations():
    job = Job("backup", "1d 12h", last_run=1_000)
    assert job.next_run() == 1_000 + 129600
    assert job.describe() == "backup: every 1d12h"
    with pytest.raises(ValueError):
        Job("bad", "0m").next_run()
    with pytest.raises(ValueError):
        Job("bad", "12 h").next_run()
