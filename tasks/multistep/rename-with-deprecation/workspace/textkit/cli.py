"""Command line: python3 -m textkit {clean,slug,count} TEXT"""

from __future__ import annotations

import argparse
from functools import partial

from textkit.normalize import clean_text
from textkit.slug import slugify
from textkit.tokens import word_counts

NORMALIZERS = {
    "lower": clean_text,
    "keep-case": partial(clean_text, lowercase=False),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="textkit")
    sub = parser.add_subparsers(dest="command", required=True)
    clean = sub.add_parser("clean", help="normalise text")
    clean.add_argument("text")
    clean.add_argument("--mode", choices=sorted(NORMALIZERS), default="lower")
    slug = sub.add_parser("slug", help="make a URL slug")
    slug.add_argument("text")
    count = sub.add_parser("count", help="count words")
    count.add_argument("text")
    args = parser.parse_args(argv)

    if args.command == "clean":
        print(NORMALIZERS[args.mode](args.text))
    elif args.command == "slug":
        print(slugify(args.text))
    else:
        for word, n in sorted(word_counts(args.text).items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"{n} {word}")
    return 0
