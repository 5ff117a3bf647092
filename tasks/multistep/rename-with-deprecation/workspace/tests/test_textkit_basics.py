from textkit import Index, slugify, tokenize, word_counts


def test_slugify():
    assert slugify("Crème Brûlée & Co.") == "creme-brulee-co"


def test_tokenize():
    assert tokenize("Don't  PANIC!") == ["don't", "panic"]


def test_word_counts():
    assert word_counts("a b a")["a"] == 2


def test_index():
    idx = Index()
    idx.add("1", "The quick brown fox")
    idx.add("2", "The lazy dog")
    assert idx.search("the") == ["1", "2"]
    assert idx.search("quick fox") == ["1"]
