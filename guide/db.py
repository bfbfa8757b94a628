"""The database: SQLAlchemy, SQLite (WAL) by default, any SQLAlchemy URL (e.g. PostgreSQL) by setting DATABASE_URL."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from .crypto import KeyRing, attach_keyring, bind_values_to_rows, fill_blind_indexes_on_flush, unwrap_after_failed_flush

MIGRATIONS = Path(__file__).parent / "migrations"


class Base(DeclarativeBase):
    pass


bind_values_to_rows(Base)  # every encrypted value is sealed to its row (guide/crypto.py)


# Values a request read alongside something else (the header's count with the signed-in user, whether a
# walk is recorded with the walk), to save a query later in the same request. Any write through the
# session (a flush) forgets them all, since it may have changed them: then the reader asks again.
_READ_UNTIL_WRITE = "read_until_write"


def remember_until_write(session: Session, key, value) -> None:
    session.info.setdefault(_READ_UNTIL_WRITE, {})[key] = value


def recall(session: Session, key):
    """What remember_until_write kept under `key`, or None (never kept, or something written since)."""
    return session.info.get(_READ_UNTIL_WRITE, {}).get(key)


def forget_reads(session: Session) -> None:
    """Forget what remember_until_write kept: for a write made without a flush (a Core UPDATE)."""
    session.info.pop(_READ_UNTIL_WRITE, None)


@event.listens_for(Session, "after_flush")
def _forget_after_write(session, _flush_context):
    forget_reads(session)


def make_engine(url: str, keyring: KeyRing | None = None) -> Engine:
    """An engine for the URL; with a key ring, its encrypted columns can be read and written."""
    engine = _engine_for(url)
    if keyring is not None:
        attach_keyring(engine, keyring)
    return engine


def _engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # WAL lets readers carry on while a record is written; synchronous=FULL keeps
            # every acknowledged commit on disk even if the machine loses power.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    connect_args = {}
    if url.startswith("postgresql+psycopg") and os.environ.get("GUIDE_PGBOUNCER") == "1":
        # Behind PgBouncer in transaction pooling, a server connection is not ours between
        # transactions, so psycopg must not prepare statements on it.
        connect_args["prepare_threshold"] = None
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    fill_blind_indexes_on_flush(sessions)
    unwrap_after_failed_flush(sessions)
    return sessions


def alembic_config(url: str, keyring: KeyRing | None = None) -> Config:
    config = Config()
    # Migrations that encrypt existing rows need the keys; an empty database does not.
    config.attributes["keyring"] = keyring
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str, keyring: KeyRing | None = None) -> None:
    """Create the database or bring it up to the latest migration."""
    command.upgrade(alembic_config(url, keyring), "head")
