"""Background work on the task queue, run by a real worker process (huey_consumer), as `make run` starts it."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from guide.crypto import new_key
from guide.models import ExportJob
from guide.tasks import huey

from tests.conftest import SMALL_CONTENT, Client, build_app
from tests.records.test_export_jobs import COPIES, _clone_records, _job
from tests.records.test_records_officer import save

CONSUMER = Path(sys.executable).parent / "huey_consumer"


@pytest.fixture
def queued_app(tmp_path):
    """The app with a real queue (a SQLite file) and no worker yet: asked-for exports wait in it."""
    key = new_key()
    app = build_app(tmp_path, SMALL_CONTENT, TASKS_IMMEDIATE=False, TASKS_DATABASE=str(tmp_path / "tasks.sqlite3"),
                    ENCRYPTION_KEYS=key, EXPORT_JOB_THRESHOLD=5, EXPORT_CHUNK_ROWS=3)
    app.test_key = key
    huey.flush()  # a shared queue (Redis, in the scaled-out run) starts empty for each test
    author = Client(app).sign_in("practitioner")
    save(author, [("purpose", "no")], subject_ref="CHILD-1")
    _clone_records(app, COPIES)
    yield app
    huey.immediate = True  # leave the shared queue as the other tests expect it


def start_worker(app, tmp_path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"], "GUIDE_TASKS_DATABASE": app.config["TASKS_DATABASE"],
           # REDIS_URL, when the scaled-out run sets it, comes through: the worker shares the app's queue.
           "GUIDE_EXPORT_FOLDER": app.config["EXPORT_FOLDER"], "GUIDE_ENCRYPTION_KEYS": app.test_key, "SECRET_KEY": "test-secret", "GUIDE_CONTENT_DIR": str(SMALL_CONTENT)}
    env.pop("GUIDE_TASKS_IMMEDIATE", None)
    log = open(tmp_path / "worker.log", "w")
    return subprocess.Popen([str(CONSUMER), "guide.worker.huey", "-w", "2", "-k", "thread", "-q"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_for(app, job_id: str, state: str, timeout: float = 60) -> ExportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = _job(app, job_id)
        if job.state == state:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} is {job.state}, not {state}")


def stop(worker: subprocess.Popen) -> None:
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(5)


def test_the_queue_is_redis_when_configured_and_a_sqlite_file_otherwise(queued_app):
    expected = "RedisStorage" if os.environ.get("REDIS_URL") else "SqliteStorage"
    assert type(huey.storage).__name__ == expected


def test_an_export_asked_for_waits_on_the_queue_and_a_worker_process_makes_it(queued_app, tmp_path):
    officer = Client(queued_app).sign_in("records")
    officer.get("/records")
    response = officer.post("/records/exports", {"format": "csv"})
    assert response.status_code == 303
    job_id = response.location.rsplit("/", 1)[1]
    time.sleep(0.5)
    assert _job(queued_app, job_id).state == "queued"  # the web request made nothing itself
    assert len(huey) == 1  # one message on the queue: the job's id
    worker = start_worker(queued_app, tmp_path)
    try:
        job = wait_for(queued_app, job_id, "ready")
    finally:
        stop(worker)
    assert (job.rows_done, job.attempts) == (COPIES + 1, 1)
    downloaded = officer.get(f"/records/exports/{job_id}/download").get_data(as_text=True)
    assert downloaded == officer.get("/records/export.csv").get_data(as_text=True)


def test_a_job_queued_twice_is_made_once(queued_app, tmp_path):
    officer = Client(queued_app).sign_in("records")
    officer.get("/records")
    job_id = officer.post("/records/exports", {"format": "json"}).location.rsplit("/", 1)[1]
    from guide.records.export_jobs import queue
    queue(job_id)  # as if the sweep had queued it again before a worker took the first
    worker = start_worker(queued_app, tmp_path)
    try:
        job = wait_for(queued_app, job_id, "ready")
        deadline = time.monotonic() + 20
        while len(huey) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
    finally:
        stop(worker)
    assert _job(queued_app, job_id).attempts == job.attempts == 1
