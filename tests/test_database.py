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


def test_first_run_creates_demo_users_and_records_once(tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}", "PATH": "/usr/bin:/bin",
           "GUIDE_CHEAP_PASSWORD_HASHING": "1", "SECRET_KEY": "x"}
    command = [sys.executable, "-m", "flask", "--app", "guide", "demo"]
    first = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    assert first.returncode == 0, first.stderr
    assert "practitioner@example.org" in first.stdout and "Demo decision records:" in first.stdout
    assert "Demo children's index: " in first.stdout
    second = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    assert second.returncode == 0 and "Demo decision records:" not in second.stdout
    engine = create_engine(env["DATABASE_URL"])
    with engine.connect() as connection:
        from guide.cli import DEMO_CHILDREN, DEMO_USERS
        assert connection.exec_driver_sql("SELECT count(*) FROM users").scalar() == len(DEMO_USERS)
        assert connection.exec_driver_sql("SELECT count(*) FROM index_children").scalar() == DEMO_CHILDREN
        assert connection.exec_driver_sql("SELECT count(DISTINCT decision) FROM decision_records").scalar() >= 5
