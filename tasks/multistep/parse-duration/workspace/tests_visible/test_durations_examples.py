from durations import format_duration, parse_duration


def test_examples_from_the_docs():
    assert parse_duration("1h30m") == 5400
    assert parse_duration("2d 4h") == 187200
    assert format_duration(5400) == "1h30m"
