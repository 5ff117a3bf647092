"""Opening a store (AGENTBENCH_DB, else the results folder's SQLite file): the engine, its
schema made, checked against this version and brought up to date, one sentence for what fails."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import inspect, make_url, text
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session, SQLModel, create_engine

from agentbench.errors import UserError
from agentbench.paths import results_dir
from agentbench.store import MetaRow

SCHEMA_VERSION = 2  # 1: before the meta table; raise it with every change an older agentbench cannot read
LOCK_WAIT_S = 5.0
SCHEMA_LOCK_KEY = 0x6167_6E74_6265_6E63  # PostgreSQL advisory lock held while a store's schema is set up ("agntbenc")


def database_url() -> str:
    return os.environ.get("AGENTBENCH_DB") or f"sqlite:///{results_dir(create=False) / 'agentbench.db'}"


def open_store(url: str | None = None, must_exist: bool = False):
    """An engine with the tables created and an older schema brought up to date; a bad URL, a
    locked file, a server that does not answer or a store from a newer agentbench is one sentence.
    With `must_exist` (commands that only read), a SQLite file that is not there is one sentence
    too, rather than a new empty store."""
    url = url or database_url()
    shown = shown_url(url)
    try:
        engine = _engine(url)
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            path = Path(engine.url.database)
            if must_exist and not path.exists():
                raise UserError(f"No store at {path.resolve()}: run this in the folder you ran `agentbench run` in, or point "
                                "AGENTBENCH_RESULTS (or AGENTBENCH_DB) at the store.")
            path.parent.mkdir(parents=True, exist_ok=True)
            _check_not_locked(shown, engine.url.database)
        with engine.begin() as connection:
            _lock_schema(connection)
            SQLModel.metadata.create_all(connection)
            _check_schema(shown, connection)
            add_missing_columns(connection)
    except (OperationalError, ArgumentError, ImportError, ValueError) as exc:
        raise UserError(f"Cannot open the store {shown} (AGENTBENCH_DB): {_one_line(exc)}.") from None
    return engine


def shown_url(url: str) -> str:
    """The URL as messages show it: a password masked."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    return parsed.render_as_string(hide_password=True) if parsed.password else url


def _engine(url: str):
    """SQLite waits out a busy file; PostgreSQL gives up on a silent server in seconds; a
    connection the server dropped between attempts is replaced, not used."""
    connect_args = {"sqlite": {"timeout": 30, "check_same_thread": False},
                    "postgresql": {"connect_timeout": 10}}.get(make_url(url).get_backend_name(), {})
    return create_engine(url, connect_args=connect_args, pool_pre_ping=True)


def _one_line(exc: Exception) -> str:
    """The first line of the driver's own words for what went wrong."""
    cause = getattr(exc, "orig", None) or exc
    return f"{cause.__class__.__name__}: {(str(cause).strip().splitlines() or [''])[0].rstrip('.')}"


def _lock_schema(connection) -> None:
    """Hold the store's schema until this transaction ends, so that two runs starting at once
    do not both create or bring up to date the same tables."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})


def _check_not_locked(url: str, path: str) -> None:
    """Fail in seconds, not after the 30 s busy wait, when another process holds the file."""
    if not os.path.exists(path):
        return
    connection = sqlite3.connect(path, timeout=LOCK_WAIT_S)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.rollback()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc):
            raise UserError(f"The store {url} is locked by another process (still locked after {LOCK_WAIT_S:g} s); "
                            "wait for it to finish, or point AGENTBENCH_DB at another store.") from None
        raise
    finally:
        connection.close()


def _check_schema(url: str, connection) -> None:
    """Record this schema version in a new store; refuse one written by a newer agentbench."""
    with Session(connection) as session:
        row = session.get(MetaRow, "schema_version")
        if row is not None and int(row.value) > SCHEMA_VERSION:
            raise UserError(f"The store {url} was written by a newer agentbench (schema {row.value}, this one reads up to "
                            f"{SCHEMA_VERSION}); upgrade agentbench, or point AGENTBENCH_DB at another store.")
        if row is None or int(row.value) < SCHEMA_VERSION:
            session.merge(MetaRow(key="schema_version", value=str(SCHEMA_VERSION)))
            session.commit()


def add_missing_columns(connection) -> None:
    """Bring a store written by an earlier version up to date: columns added since are
    added with their defaults (additive changes only; nothing is dropped or rewritten)."""
    inspector, quote = inspect(connection), connection.dialect.identifier_preparer.quote
    for table in SQLModel.metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            default = column.default.arg if column.default is not None and column.default.is_scalar else None
            literal = "" if default is None else f" DEFAULT {_sql_literal(default)}"
            connection.execute(text(f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(column.name)} "
                                    f"{column.type.compile(connection.dialect)}{literal}"))


def _sql_literal(value) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"
