"""bookshelf: a tiny command-line catalogue of the books you own."""
