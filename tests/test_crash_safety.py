"""Nothing acknowledged is lost: records saved before the server is killed (SIGKILL) are there after.

On SQLite, and on PostgreSQL when the suite runs with TEST_POSTGRES_URL (the app is killed, not the database).
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from sqlalchemy import text

from guide.audit import verify
from guide.crypto import KeyRing, new_key
from guide.db import make_engine, make_sessionmaker, migrate
from guide.accounts.users import create_user, issue_token

from tests.conftest import ROOT, SMALL_CONTENT, fresh_database_url

# Several worker processes save at once; the whole server (master and workers) is killed.
SERVER_WORKERS, SERVER_THREADS = 3, 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env, port):
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--no-control-socket", "-w", str(SERVER_WORKERS), "-k", "gthread",
                                "--threads", str(SERVER_THREADS), "-b", f"127.0.0.1:{port}", "guide:create_app()"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(env["SERVER_LOG"], "ab"),
                               start_new_session=True)  # its own process group: one kill reaches every worker
    for _ in range(200):  # ready when a worker answers, not when the master accepts connections
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/api/v1/openapi.json")
            if connection.getresponse().status == 200:
                connection.close()
                return process
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.05)
    kill_server(process)
    raise RuntimeError("server did not start")


def kill_server(process) -> None:
    """SIGKILL the master and every worker at once: no worker gets to finish or clean up."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(10)


def call(port, token, method, path, body=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, body=json.dumps(body) if body is not None else None,
                       headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    response = connection.getresponse()
    data = json.loads(response.read() or b"null")
    connection.close()
    return response.status, data


def test_records_acknowledged_before_a_sigkill_survive_it(tmp_path):
    url = fresh_database_url(tmp_path)  # SQLite; or PostgreSQL when the suite runs with TEST_POSTGRES_URL
    migrate(url)
    key = new_key()
    engine = make_engine(url, KeyRing([key]))
    with make_sessionmaker(engine)() as session:
        user = create_user(session, email="crash@example.org", name="Crash Test", role="practitioner",
                           agency="Northshire", password="a long enough password")
        session.flush()
        token = issue_token(session, user)
        session.commit()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "crash-test", "GUIDE_CONTENT_DIR": str(SMALL_CONTENT),
           "GUIDE_ENCRYPTION_KEYS": key, "SERVER_LOG": str(tmp_path / "server.log")}
    port = free_port()
    server = start_server(env, port)
    acknowledged, errors, stop = [], [], threading.Event()

    def save_records(worker):
        while not stop.is_set():
            try:
                status, walk = call(port, token, "POST", "/api/v1/walks", {"flowchart": "mini"})
                if status != 201:
                    errors.append((status, walk))
                    return
                status, _ = call(port, token, "POST", f"/api/v1/walks/{walk['id']}/answers",
                                 {"question": "purpose", "answer": "no"})
                status, record = call(port, token, "POST", f"/api/v1/walks/{walk['id']}/record",
                                      {"subject_ref": f"W{worker}", "consent_position": "refused", "advice_sought": "no"})
            except (OSError, http.client.HTTPException, ValueError):
                return  # the server has gone: nothing after this was acknowledged
            if status == 201:
                acknowledged.append(record["reference"])
            else:
                errors.append((status, record))
                return

    workers = [threading.Thread(target=save_records, args=(n,)) for n in range(4)]
    for worker in workers:
        worker.start()
    deadline = time.time() + 20
    while len(acknowledged) < 40 and time.time() < deadline:
        time.sleep(0.02)
    kill_server(server)  # mid-way: requests are in flight in several workers
    stop.set()
    for worker in workers:
        worker.join(15)
    assert errors == [], errors[:3]  # concurrent saves before the kill all succeeded
    assert len(acknowledged) >= 40
    saved = set(acknowledged)

    server = start_server(env, port)
    try:
        status, listing = call(port, token, "GET", "/api/v1/records?limit=500")
        assert status == 200
        present = {r["reference"] for r in listing["records"]}
        assert saved <= present, f"{len(saved - present)} acknowledged records lost"
    finally:
        kill_server(server)
    # The audit trail still verifies (every event was sealed as its request committed).
    assert verify(engine)[1] is None
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
