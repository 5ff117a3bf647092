"""Command line: python -m bookshelf list [--db PATH] [--author TEXT] [--unread]"""

from __future__ import annotations

import argparse
import sys

from .store import format_book, load_books


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bookshelf", description="Browse your book catalogue.")
    sub = parser.add_subparsers(dest="command", required=True)

    lst = sub.add_parser("list", help="list books")
    lst.add_argument("--db", default="books.json", help="catalogue file (default: books.json)")
    lst.add_argument("--author", help="only books whose author contains TEXT (case-insensitive)")
    lst.add_argument("--unread", action="store_true", help="only books not read yet")
    return parser


def cmd_list(args: argparse.Namespace) -> int:
    books = load_books(args.db)
    if args.author:
        needle = args.author.lower()
        books = [b for b in books if needle in b.author.lower()]
    if args.unread:
        books = [b for b in books if not b.read]
    for book in books:
        print(format_book(book))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "list":
        return cmd_list(args)
    return 1
