"""Render a plain-text listing with a pager footer, e.g. for the admin CLI."""

from __future__ import annotations

import sys

from pagination import paginate


def render(items: list[str], page: int, per_page: int = 10) -> str:
    result = paginate(items, page, per_page)
    lines = [f"- {item}" for item in result.items]
    footer = f"Page {result.number} of {max(result.pages, 1)} ({result.total} items)"
    if result.has_prev:
        footer += "  [prev]"
    if result.has_next:
        footer += "  [next]"
    lines.append(footer)
    return "\n".join(lines)


if __name__ == "__main__":
    names = [line.strip() for line in sys.stdin if line.strip()]
    print(render(names, int(sys.argv[1]) if len(sys.argv) > 1 else 1))
