"""A multi-machine rehearsal on loopback: two app "machines" against one PostgreSQL, one Redis and one
S3-compatible store, under load; one machine is killed with SIGKILL mid-run.

Each machine is its own process groups: a gunicorn (master and workers) and a task worker
(huey_consumer). Practitioners save records through both machines' APIs while a records
officer's large export runs on machine A's worker; then machine A — web and worker — is killed
at once. Nothing acknowledged is lost, the audit chains verify, and the export started on A is
finished by B's worker (the sweep, which the scheduler runs every minute, is triggered here).

Runs in the scaled-out run (`make test` / `make test-scaled`: TEST_POSTGRES_URL, REDIS_URL and
TEST_S3_ENDPOINT set); elsewhere it is skipped and says why.
"""

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import boto3
import pytest
from sqlalchemy import select

from guide import create_app
from guide.accounts.users import create_user, issue_token
from guide.audit import verify
from guide.crypto import new_key
from guide.db import migrate
from guide.index.audit import verify as verify_index
from guide.models import DecisionRecord
from guide.records.export_jobs import create_job, queue, sweep_exports
from guide.records.visibility import RecordFilter
from guide.tasks import huey

from tests.conftest import ROOT, SMALL_CONTENT, fresh_database_url
from tests.records.test_export_jobs import _clone_records, _job
from tests.test_crash_safety import call, free_port, kill_server, start_server

NEEDS = ("TEST_POSTGRES_URL", "REDIS_URL", "TEST_S3_ENDPOINT")
pytestmark = pytest.mark.skipif(not all(os.environ.get(name) for name in NEEDS),
                                reason="the scaled-out run only (PostgreSQL + Redis + S3: make test-scaled)")
CLONES = 3000  # enough that the export is still being made when machine A is killed


class Machine:
    """One app machine: its web server and its task worker, each its own process group."""

    def __init__(self, name: str, env: dict, tmp_path: Path):
        self.name, self.env, self.port = name, {**env, "SERVER_LOG": str(tmp_path / f"{name}-web.log")}, free_port()
        self.web = start_server(self.env, self.port)
        self.worker = None

    def start_worker(self, tmp_path: Path):
        self.worker = subprocess.Popen(
            [str(Path(sys.executable).parent / "huey_consumer"), "guide.worker.huey", "-w", "2", "-k", "thread"],
            cwd=ROOT, env=self.env, stdout=open(tmp_path / f"{self.name}-worker.log", "ab"), stderr=subprocess.STDOUT,
            start_new_session=True)

    def kill(self):
        """SIGKILL: the web master and workers, and the task worker, all at once."""
        kill_server(self.web)
        if self.worker:
            kill_server(self.worker)


def test_two_machines_one_killed_mid_run_lose_nothing_and_its_export_finishes_on_the_other(tmp_path):
    url = fresh_database_url(tmp_path)
    key = new_key()
    bucket = f"guide-rehearsal-{uuid.uuid4().hex[:12]}"
    aws = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "eu-west-2"}
    os.environ.update(aws)
    boto3.client("s3", endpoint_url=os.environ["TEST_S3_ENDPOINT"]).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    env = {**os.environ, **aws, "DATABASE_URL": url, "SECRET_KEY": "rehearsal", "GUIDE_CONTENT_DIR": str(SMALL_CONTENT),
           "GUIDE_ENCRYPTION_KEYS": key, "GUIDE_EXPORT_STORE": "s3", "GUIDE_S3_BUCKET": bucket,
           "GUIDE_S3_ENDPOINT": os.environ["TEST_S3_ENDPOINT"], "GUIDE_EXPORT_CHUNK_ROWS": "100",
           "GUIDE_EXPORT_JOB_STALE_SECONDS": "3"}
    env.pop("GUIDE_TASKS_IMMEDIATE", None)
    migrate(url)
    # This process's view of the same service: to set up, queue the export and check afterwards.
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "rehearsal", "CONTENT_DIR": SMALL_CONTENT,
                      "ENCRYPTION_KEYS": key, "REDIS_URL": os.environ["REDIS_URL"], "EXPORT_STORE": "s3",
                      "S3_BUCKET": bucket, "S3_ENDPOINT": os.environ["TEST_S3_ENDPOINT"]})
    huey.flush()
    sessions = app.extensions["db_sessions"]
    with sessions() as session:
        author = create_user(session, email="load@example.org", name="Load Practitioner", role="practitioner",
                             agency="Northshire", password="a long enough password")
        officer = create_user(session, email="officer@example.org", name="Records Officer", role="records_officer",
                              agency="Northshire", password="a long enough password")
        session.flush()
        token = issue_token(session, author)
        session.commit()
        officer_id = officer.id

    a, b = Machine("a", env, tmp_path), Machine("b", env, tmp_path)
    try:
        acknowledged, errors, stop = {a.name: [], b.name: []}, [], threading.Event()

        def save_records(machine, n):
            while not stop.is_set():
                try:
                    status, walk = call(machine.port, token, "POST", "/api/v1/walks", {"flowchart": "mini"})
                    call(machine.port, token, "POST", f"/api/v1/walks/{walk['id']}/answers",
                         {"question": "purpose", "answer": "no"})
                    status, record = call(machine.port, token, "POST", f"/api/v1/walks/{walk['id']}/record",
                                          {"subject_ref": f"{machine.name}{n}", "consent_position": "refused",
                                           "advice_sought": "no"})
                except Exception:  # noqa: BLE001 - the machine has gone: nothing after this was acknowledged
                    return
                if status == 201:
                    acknowledged[machine.name].append(record["reference"])
                else:
                    errors.append((machine.name, status, record))
                    return

        load = [threading.Thread(target=save_records, args=(m, n)) for m in (a, b) for n in range(3)]
        for thread in load:
            thread.start()
        deadline = time.time() + 30
        while min(len(v) for v in acknowledged.values()) < 5 and time.time() < deadline:
            time.sleep(0.05)
        _clone_records(app, CLONES)

        # The export goes to machine A's worker (the only one running yet).
        with sessions() as session:
            job = create_job(session, session.get(type(author), officer_id), "csv", RecordFilter(), hours=24)
            session.commit()
            job_id = job.id
        a.start_worker(tmp_path)
        queue(job_id)
        deadline = time.time() + 60
        while _job(app, job_id).state != "running" and time.time() < deadline:
            time.sleep(0.01)
        started_on_a = _job(app, job_id)
        assert started_on_a.state == "running", started_on_a.state
        b.start_worker(tmp_path)
        a.kill()  # mid-run: saves in flight on A, the export half made
        killed_at = _job(app, job_id)
        assert killed_at.state == "running" and killed_at.rows_done < killed_at.rows_total, "the export ended before the kill"
        time.sleep(1)
        stop.set()
        for thread in load:
            thread.join(20)
        assert errors == [], errors[:3]
        assert acknowledged[b.name], "machine B saved nothing"

        # The scheduler's every-minute sweep, run now by B's worker: A's job is stale, B redoes it.
        time.sleep(3.5)
        sweep_exports()
        deadline = time.time() + 120
        while _job(app, job_id).state != "ready" and time.time() < deadline:
            time.sleep(0.2)
        finished = _job(app, job_id)
        assert finished.state == "ready" and finished.attempts == 2 and finished.runner != started_on_a.runner
        store = app.extensions["file_store"]
        assert sum(piece.count("\n") for piece in store.read(job_id, finished.runner)) >= CLONES

        # Nothing acknowledged by either machine is lost; the chains verify.
        with sessions() as session:
            present = set(session.scalars(select(DecisionRecord.reference)))
        for name, references in acknowledged.items():
            assert set(references) <= present, f"{len(set(references) - present)} records acknowledged by {name} lost"
        engine = app.extensions["db_engine"]
        assert verify(engine)[1] is None
        assert verify_index(engine)[1] is None
    finally:
        a.kill()
        b.kill()
        huey.immediate = True
