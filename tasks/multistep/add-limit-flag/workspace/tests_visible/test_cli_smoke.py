from bookshelf.cli import main


def test_list_everything(capsys):
    assert main(["list", "--db", "books.json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 8
    assert lines[0] == "Dune by Frank Herbert (1965) [5/5]"


def test_author_filter(capsys):
    assert main(["list", "--author", "le guin"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
