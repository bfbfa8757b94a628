"""The schema comes from migrations, and the migrations match the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from guide.db import Base, migrate


def test_migrations_create_every_table_the_models_need(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    migrate(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    assert {"users", "walks", "decision_records", "audit_events", "content_versions", "api_tokens"} <= set(
        inspect(engine).get_table_names())


def test_migrating_twice_is_harmless(tmp_path):
    url = f"sqlite:///{tmp_path / 'again.sqlite3'}"
    migrate(url)
    migrate(url)


def test_sqlite_runs_in_wal_mode(app):
    engine = app.extensions["db_engine"]
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
