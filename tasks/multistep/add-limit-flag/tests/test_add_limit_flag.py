import json
import subprocess
import sys

import pytest

from bookshelf.cli import main

CATALOGUE = [
    {"title": "delta", "author": "Zed", "year": 2001, "rating": 3, "read": True},
    {"title": "Alpha", "author": "bob", "year": 1999, "rating": 5, "read": False},
    {"title": "charlie", "author": "Amy", "rating": 3, "read": True},
    {"title": "Bravo", "author": "amy", "year": 1999, "read": False},
    {"title": "echo", "author": "Bob", "year": 1987, "rating": 5, "read": True},
    {"title": "Foxtrot", "author": "carl", "year": 2001, "rating": 1, "read": False},
]


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "cat.json"
    path.write_text(json.dumps(CATALOGUE), encoding="utf-8")
    return str(path)


def run_main(capsys, *args):
    code = main(["list", *args])
    out = capsys.readouterr().out
    return code, [line.split(" by ")[0] for line in out.splitlines()], out


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "bookshelf", "list", *args], capture_output=True, text=True, timeout=30
    )


def test_default_order_unchanged(capsys, db):
    code, titles, _ = run_main(capsys, "--db", db)
    assert code == 0
    assert titles == ["delta", "Alpha", "charlie", "Bravo", "echo", "Foxtrot"]


def test_sort_title_case_insensitive(capsys, db):
    assert run_main(capsys, "--db", db, "--sort", "title")[1] == ["Alpha", "Bravo", "charlie", "delta", "echo", "Foxtrot"]


def test_sort_author_case_insensitive_and_stable(capsys, db):
    assert run_main(capsys, "--db", db, "--sort", "author")[1] == ["charlie", "Bravo", "Alpha", "echo", "Foxtrot", "delta"]


def test_sort_year_oldest_first_missing_last(capsys, db):
    assert run_main(capsys, "--db", db, "--sort", "year")[1] == ["echo", "Alpha", "Bravo", "delta", "Foxtrot", "charlie"]


def test_sort_rating_best_first_unrated_last(capsys, db):
    assert run_main(capsys, "--db", db, "--sort", "rating")[1] == ["Alpha", "echo", "delta", "charlie", "Foxtrot", "Bravo"]


def test_limit_without_sort_keeps_file_order_and_reports_hidden(capsys, db):
    code, titles, out = run_main(capsys, "--db", db, "--limit", "2")
    assert code == 0
    assert out.splitlines() == [
        "delta by Zed (2001) [3/5]",
        "Alpha by bob (1999) [5/5]",
        "(4 more not shown)",
    ]


def test_limit_applies_after_filter_and_sort(capsys, db):
    code, titles, out = run_main(capsys, "--db", db, "--unread", "--sort", "year", "--limit", "2")
    assert code == 0
    assert out.splitlines() == [
        "Alpha by bob (1999) [5/5]",
        "Bravo by amy (1999) [unrated]",
        "(1 more not shown)",
    ]


def test_limit_not_reached_prints_no_footer(capsys, db):
    for n in ("6", "50"):
        code, titles, out = run_main(capsys, "--db", db, "--limit", n)
        assert code == 0
        assert len(out.splitlines()) == 6
        assert "more not shown" not in out


def test_limit_with_author_filter(capsys, db):
    code, titles, out = run_main(capsys, "--db", db, "--author", "AMY", "--sort", "title", "--limit", "1")
    assert out.splitlines() == ["Bravo by amy (1999) [unrated]", "(1 more not shown)"]


def test_shipped_catalogue_top_rated_via_subprocess():
    proc = run_cli("--sort", "rating", "--limit", "3")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "Dune by Frank Herbert (1965) [5/5]",
        "Hyperion by Dan Simmons (1989) [5/5]",
        "the left hand of darkness by Ursula K. Le Guin (1969) [4/5]",
        "(5 more not shown)",
    ]


@pytest.mark.parametrize("value", ["0", "-1", "-10", "abc", "2.5", ""])
def test_invalid_limit_is_usage_error(value):
    proc = run_cli("--limit", value)
    assert proc.returncode == 2
    assert "--limit" in proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize("value", ["price", "Title", ""])
def test_invalid_sort_is_usage_error(value):
    proc = run_cli("--sort", value)
    assert proc.returncode == 2
    assert "--sort" in proc.stderr
    assert proc.stdout == ""


def test_main_raises_systemexit_2_for_bad_limit(db):
    with pytest.raises(SystemExit) as info:
        main(["list", "--db", db, "--limit", "0"])
    assert info.value.code == 2
