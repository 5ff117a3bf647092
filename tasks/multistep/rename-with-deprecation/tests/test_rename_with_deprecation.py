import inspect
import subprocess
import sys
import warnings

import pytest

import textkit
import textkit.cli
import textkit.normalize
import textkit.search
import textkit.slug
import textkit.tokens


def test_new_name_exists_everywhere():
    from textkit import normalize_text
    from textkit.normalize import normalize_text as direct

    assert normalize_text is direct
    assert normalize_text.__name__ == "normalize_text"
    assert "normalize_text" in textkit.__all__
    assert "clean_text" in textkit.__all__
    assert textkit.clean_text is textkit.normalize.clean_text


@pytest.mark.parametrize(
    "text, kwargs, expected",
    [
        ("  Hello\u00a0  World ", {}, "hello world"),
        ("  Hello \t\n World ", {"lowercase": False}, "Hello World"),
        ("ＡＢＣ ﬁne", {}, "abc fine"),
        ("", {}, ""),
    ],
)
def test_normalize_text_behaviour(text, kwargs, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert textkit.normalize_text(text, **kwargs) == expected


def test_lowercase_is_keyword_only():
    with pytest.raises(TypeError):
        textkit.normalize_text("x", False)


def test_old_name_still_works_and_warns():
    with pytest.warns(DeprecationWarning, match="normalize_text"):
        assert textkit.clean_text("  A   B ") == "a b"
    with pytest.warns(DeprecationWarning, match="clean_text"):
        assert textkit.normalize.clean_text("  A   B ", lowercase=False) == "A B"


def test_old_name_warns_exactly_once_per_call():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            textkit.clean_text("x")
    deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(deprecations) == 3


def test_warning_points_at_the_caller():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        textkit.clean_text("x")
    assert [w.filename for w in caught if issubclass(w.category, DeprecationWarning)] == [__file__]


def test_no_warning_at_import_time():
    code = "import textkit; from textkit import *; import textkit.cli, textkit.search, textkit.slug, textkit.tokens"
    proc = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=20)
    assert proc.returncode == 0, proc.stderr


def test_tokens_do_not_use_the_deprecated_name():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert textkit.tokenize("Don't  PANIC!") == ["don't", "panic"]
        assert textkit.word_counts("a b A") == {"a": 2, "b": 1}
    assert inspect.signature(textkit.tokenize).parameters["normalizer"].default is textkit.normalize_text


def test_slug_does_not_use_the_deprecated_name():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert textkit.slugify("  Crème Brûlée & Co. ") == "creme-brulee-co"
        assert textkit.slugify("a" * 60, max_length=10) == "a" * 10


def test_search_does_not_use_the_deprecated_name():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        idx = textkit.Index()
        idx.add("1", "  The quick\n brown   fox ")
        idx.add("2", "The lazy dog")
        assert idx.search("THE") == ["1", "2"]
        assert idx.search("quick fox") == ["1"]
        assert idx.search("") == []
        assert idx.snippet("1") == "The quick brown fox"
        assert idx.snippet("1", width=10) == "The quick…"


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["clean", "  Hello   World "], "hello world\n"),
        (["clean", "  Hello   World ", "--mode", "keep-case"], "Hello World\n"),
        (["clean", "  Hello   World ", "--mode", "lower"], "hello world\n"),
        (["slug", "Hello, World!"], "hello-world\n"),
        (["count", "b a B c a"], "2 a\n2 b\n1 c\n"),
    ],
)
def test_cli_does_not_use_the_deprecated_name(argv, expected, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert textkit.cli.main(argv) == 0
    assert capsys.readouterr().out == expected


def test_cli_normalizers_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sorted(textkit.cli.NORMALIZERS) == ["keep-case", "lower"]
        assert textkit.cli.NORMALIZERS["lower"](" A  B ") == "a b"
        assert textkit.cli.NORMALIZERS["keep-case"](" A  B ") == "A B"


def test_module_entry_point_under_error_filter():
    proc = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-m", "textkit", "clean", " X  Y ", "--mode", "keep-case"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "X Y\n"
