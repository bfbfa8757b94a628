"""Shared fixtures: a fresh app and database per test, signed-in clients that send CSRF tokens."""

from __future__ import annotations

import os
import re
from pathlib import Path

os.environ.setdefault("GUIDE_CHEAP_PASSWORD_HASHING", "1")

import pytest
from sqlalchemy import func, select

from guide import create_app
from guide.db import migrate
from guide.users import create_user

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
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    name = f"guide_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def build_app(tmp_path: Path, content: Path, **extra):
    url = extra.pop("DATABASE_URL", None) or fresh_database_url(tmp_path)
    migrate(url)
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
    import threading

    from werkzeug.serving import make_server

    app = build_app(tmp_path_factory.mktemp("live"), REAL_CONTENT)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    thread.join(5)
