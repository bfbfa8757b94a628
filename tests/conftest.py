"""Shared fixtures: a fresh app and database per test, signed-in clients that send CSRF tokens."""

from __future__ import annotations

import contextlib
import functools
import os
import re
from pathlib import Path

os.environ.setdefault("GUIDE_CHEAP_PASSWORD_HASHING", "1")

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from guide import create_app
from guide.guidance import Guidance
from guide.db import migrate
from guide.accounts.users import create_user

ROOT = Path(__file__).resolve().parent.parent
SMALL_CONTENT = ROOT / "tests" / "fixtures" / "content_small"
REAL_CONTENT = ROOT / "content"
PASSWORD = "correct horse battery staple"

USERS = {
    "practitioner": dict(email="pat@example.org", name="Pat Practitioner", role="practitioner",
                         agency="Northshire Health", team="Health visiting", job_title="Health visitor"),
    "colleague": dict(email="col@example.org", name="Colin Colleague", role="practitioner",
                      agency="Northshire Health", team="Health visiting", job_title="Health visitor"),
    "records": dict(email="rec@example.org", name="Rita Records", role="records_officer",
                    agency="Northshire Health", team="IG", job_title="Records officer"),
    "trainer": dict(email="tia@example.org", name="Tia Trainer", role="trainer",
                    agency="Northshire Safeguarding Partnership", team="Training", job_title="Trainer"),
    "other_records": dict(email="orec@example.org", name="Omar Records", role="records_officer",
                          agency="Southshire Police", team="IG", job_title="Records officer"),
}


def fresh_database_url(tmp_path: Path) -> str:
    """SQLite in the test's folder; or, with TEST_POSTGRES_URL set, a new database on that server."""
    server = os.environ.get("TEST_POSTGRES_URL")
    if not server:
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    return _create_database(server)


def _create_database(server: str, template: str | None = None) -> str:
    """A new database on the PostgreSQL server (a copy of `template`, if given); its URL."""
    import uuid

    from sqlalchemy import create_engine
    name = f"guide_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


# The guidance's own content is read and checked once per test session, not once per app: it
# is most of a second of YAML parsing, and tests only read it (a Guidance keeps nothing per
# database but the content versions it has stored, keyed by the database's URL, new for each test).
# Any other content folder (the small fixture, a test's own edited copy) is loaded afresh every time.
_load_guidance = Guidance.load


@functools.cache
def _real_guidance() -> Guidance:
    return _load_guidance(REAL_CONTENT)


def _guidance_for(directory) -> Guidance:
    return _real_guidance() if Path(directory).resolve() == REAL_CONTENT.resolve() else _load_guidance(directory)


Guidance.load = staticmethod(_guidance_for)


_migrated_templates: dict[str, str] = {}


def migrated_database_url(tmp_path: Path) -> str:
    """Like fresh_database_url, but already migrated to the latest revision.

    The migrations run once per test session, into a template (a SQLite file; a PostgreSQL
    database), and each test gets a copy of it: copying is a millisecond, migrating most of a second.
    """
    server = os.environ.get("TEST_POSTGRES_URL") or ""
    template = _migrated_templates.get(server)
    if template is None:
        import atexit
        import shutil
        import tempfile
        folder = Path(tempfile.mkdtemp(prefix="guide-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = fresh_database_url(folder)
        migrate(template)
        _migrated_templates[server] = template
    if not server:
        import shutil
        import sqlite3
        from contextlib import closing
        source, target = template.removeprefix("sqlite:///"), tmp_path / "test.sqlite3"
        with closing(sqlite3.connect(source)) as connection:  # all of it in the one file, to copy
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copyfile(source, target)
        return f"sqlite:///{target}"
    return _create_database(server, template=make_url(template).database)


def build_app(tmp_path: Path, content: Path, **extra):
    url = extra.pop("DATABASE_URL", None)
    if url:
        migrate(url)
    else:
        url = migrated_database_url(tmp_path)
    # Background tasks run in the request that queues them (tests/test_task_worker.py runs a real worker).
    extra.setdefault("TASKS_IMMEDIATE", True)
    extra.setdefault("EXPORT_FOLDER", str(tmp_path / "exports"))
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret", "CONTENT_DIR": content, "TESTING": True, **extra})
    with app.app_context():
        session = app.extensions["db_sessions"]()
        for spec in USERS.values():
            create_user(session, password=PASSWORD, **spec)
        session.commit()
        session.close()
    return app


@pytest.fixture
def app(tmp_path):
    return build_app(tmp_path, SMALL_CONTENT)


@pytest.fixture
def real_app(tmp_path):
    return build_app(tmp_path, REAL_CONTENT)


class Client:
    """A test client that signs in and finds the CSRF token on each page, as a browser would."""

    def __init__(self, app):
        self.app = app
        self.http = app.test_client()
        self.token = None

    def get(self, url, **kwargs):
        response = self.http.get(url, **kwargs)
        if response.mimetype != "text/html":
            return response
        found = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
        if found:
            self.token = found.group(1)
        return response

    def post(self, url, data=None, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf:
            if self.token is None:
                self.get("/sign-in")
            data.setdefault("csrf_token", self.token)
        return self.http.post(url, data=data, **kwargs)

    def sign_in(self, who: str):
        self.get("/sign-in")
        response = self.post("/sign-in", {"email": USERS[who]["email"], "password": PASSWORD})
        assert response.status_code == 303, response.get_data(as_text=True)
        return self

    def start(self, flowchart: str) -> str:
        self.get(f"/flowcharts/{flowchart}")
        response = self.post(f"/flowcharts/{flowchart}/start")
        assert response.status_code == 303
        return response.location.split("/")[2]

    def answer(self, walk_id: str, question: str, value: str, **extra):
        self.get(f"/walks/{walk_id}/{question}")
        return self.post(f"/walks/{walk_id}/{question}", {"answer": value, **extra})


@pytest.fixture
def client(app):
    return Client(app)


def record_about(session, subject_ref: str):
    """The one decision record about a child: references are encrypted, so found by blind index."""
    from guide.crypto import blind_match
    from guide.models import DecisionRecord
    return session.scalars(select(DecisionRecord).where(blind_match(session, DecisionRecord.subject_key, subject_ref))).one()


def designate(app, who: str, designation: str = "user") -> None:
    """Make one of the USERS a designated user of the children's index."""
    from guide.models import User
    with app.app_context():
        session = app.extensions["db_sessions"]()
        user = next(user for user in session.scalars(select(User)) if user.name == USERS[who]["name"])
        user.index_designation = designation
        session.commit()
        session.close()


def count_rows(app, model) -> int:
    session = app.extensions["db_sessions"]()
    try:
        return session.scalar(select(func.count()).select_from(model))
    finally:
        session.close()


def table_snapshot(app) -> dict:
    """Row counts of every table: "changes nothing" means this is the same before and after."""
    from guide.models import ApiToken, AuditEvent, DecisionRecord, User, Walk
    return {model.__tablename__: count_rows(app, model) for model in (User, ApiToken, Walk, DecisionRecord, AuditEvent)}


# Real-browser tests: Debian's chromium driven by Playwright (no browser download).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The app on the real content, served over HTTP on loopback by werkzeug in a thread."""
    with served(build_app(tmp_path_factory.mktemp("live"), REAL_CONTENT)) as live:
        yield live


@contextlib.contextmanager
def served(app):
    """The app served over HTTP on loopback (a free port) by werkzeug in a thread: (base URL, app)."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()
        thread.join(5)
