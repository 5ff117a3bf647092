"""python -m notifier check-config PATH"""

from __future__ import annotations

import sys

from notifier.config import ConfigError, load_config


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "check-config":
        print("usage: python -m notifier check-config PATH", file=sys.stderr)
        return 2
    try:
        cfg = load_config(args[1])
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 1
    tls = "tls" if cfg.use_tls else "plain"
    print(
        f"config OK: {cfg.host}:{cfg.port} ({tls}), from {cfg.sender} to {len(cfg.recipients)} "
        f"recipient(s), {cfg.max_attempts} attempt(s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
