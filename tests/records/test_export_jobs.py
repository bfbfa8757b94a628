"""Large exports as jobs: asked for, made in the background, shown in progress, downloaded when ready.

The job and its file are in the database, so a job whose runner died is picked up again (by the
CLI, or by a visit to its progress page) and exactly one claimer runs it.
"""

import csv
import io
import json
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text as sql

from guide.records.export_jobs import claim, create_job, new_claim
from guide.models import AuditEvent, DecisionRecord, ExportChunk, ExportJob, User, utcnow
from guide.records.visibility import RecordFilter

from tests.conftest import SMALL_CONTENT, Client, build_app
from tests.records.test_records_officer import save

THRESHOLD = 5
COPIES = 10  # + the 3 records saved through the pages = 13, over the threshold, in 5 chunks of 3


@pytest.fixture
def app(tmp_path):
    return build_app(tmp_path, SMALL_CONTENT, EXPORT_JOB_THRESHOLD=THRESHOLD, EXPORT_CHUNK_ROWS=3,
                     EXPORT_JOB_HEARTBEAT_SECONDS=0)


def _clone_records(app, copies: int) -> None:
    """Many records quickly: copies of a saved one (every column but its identity), a second apart."""
    session = app.extensions["db_sessions"]()
    try:
        original = session.scalars(select(DecisionRecord).where(DecisionRecord.decision == "do_not_share")).first()
        keys = [attr.key for attr in inspect(DecisionRecord).column_attrs
                if attr.key not in ("id", "reference", "supersedes_id", "created_at")]
        for n in range(copies):
            session.add(DecisionRecord(reference=f"COPY{n:04d}", created_at=original.created_at + timedelta(seconds=n + 1),
                                       **{key: getattr(original, key) for key in keys}))
        session.commit()
    finally:
        session.close()


@pytest.fixture
def records(app):
    author = Client(app).sign_in("practitioner")
    save(author, [("purpose", "no")], subject_ref="CHILD-1")
    save(author, [("purpose", "yes"), ("consent", "no"), ("lawful", "yes")], subject_ref="CHILD-2",
         information_shared="=HYPERLINK(\"http://evil\")\nand a second line, \"quoted\"")
    save(author, [("purpose", "not_sure")], subject_ref="CHILD-3")
    _clone_records(app, COPIES)
    return Client(app).sign_in("records")


def _session(app):
    return app.extensions["db_sessions"]()


def _job(app, job_id) -> ExportJob:
    session = _session(app)
    try:
        job = session.get(ExportJob, job_id)
        session.expunge_all()
        return job
    finally:
        session.close()


def _ask(client, fmt: str, query: str = "") -> str:
    client.get(f"/records?{query}")
    response = client.post(f"/records/exports?{query}", {"format": fmt})
    assert response.status_code == 303, response.get_data(as_text=True)
    job_id = response.location.rsplit("/", 1)[1]
    assert response.location.endswith(f"/records/exports/{job_id}")
    return job_id


def _wait_until_ready(client, job_id: str, timeout: float = 30) -> str:
    """Poll the progress fragment as htmx would, until it offers the download."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/records/exports/{job_id}/status?seen=x", headers={"HX-Request": "true"})
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        if "Your export is ready" in page:
            return page
        assert "could not be finished" not in page, page
        time.sleep(0.05)
    raise AssertionError("the export job did not finish")


def _records_officer(session) -> User:
    return session.scalar(select(User).where(User.role == "records_officer", User.agency == "Northshire Health"))


def _stored_job(app, fmt="csv", wanted=None, **state) -> str:
    """A job written straight to the database, as a runner elsewhere would have left it."""
    session = _session(app)
    try:
        job = create_job(session, _records_officer(session), fmt, wanted or RecordFilter(), hours=24)
        for name, value in state.items():
            setattr(job, name, value)
        session.commit()
        return job.id
    finally:
        session.close()


def _died(app, fmt="csv") -> str:
    """A job whose runner was killed part way: running, heartbeat long stale, half its file written."""
    job_id = _stored_job(app, fmt, state="running", runner="dead-runner", attempts=1, rows_done=3,
                         started_at=utcnow() - timedelta(hours=1), heartbeat_at=utcnow() - timedelta(hours=1))
    session = _session(app)
    session.add_all([ExportChunk(job_id=job_id, seq=0, data="half a file from the runner that died\n"),
                     ExportChunk(job_id=job_id, seq=7, data="a stray chunk\n")])
    session.commit()
    session.close()
    return job_id


def _audits(app, action: str) -> list[AuditEvent]:
    session = _session(app)
    try:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
    finally:
        session.close()


def test_a_large_set_offers_an_export_job_and_a_small_one_still_streams(records):
    page = records.get("/records").get_data(as_text=True)
    assert "Prepare CSV export" in page and "Prepare JSON export" in page and "more than 5" in page
    assert "/records/export.csv" not in page
    small = records.get("/records?decision=share_without_consent").get_data(as_text=True)
    assert "Prepare CSV export" not in small and "/records/export.csv?decision=share_without_consent" in small


def test_a_csv_export_job_shows_progress_finishes_and_downloads_what_the_stream_gives(records, app):
    job_id = _ask(records, "csv")
    page = records.get(f"/records/exports/{job_id}").get_data(as_text=True)
    assert "Your CSV export" in page and "24 hours" in page and "Only you can see or download it" in page
    ready = _wait_until_ready(records, job_id)
    assert "13 records as CSV" in ready and f"/records/exports/{job_id}/download" in ready
    assert 'hx-trigger="every 1s"' not in ready  # polling stops once it is done
    assert 'id="export-announce"' in ready and 'hx-swap-oob="true"' in ready

    job = _job(app, job_id)
    assert (job.state, job.rows_done, job.rows_total, job.attempts) == ("ready", 13, 13, 1)
    # The file is in the file store (a folder by default), not the database: 3 records a part.
    stored = sorted((Path(app.config["EXPORT_FOLDER"]) / job_id / job.runner).glob("*.part"))
    assert [part.name for part in stored] == [f"{seq:06d}.part" for seq in range(5)]
    assert all(part.read_text().startswith("g1.") and "CHILD" not in part.read_text() for part in stored)  # encrypted at rest
    with app.extensions["db_engine"].connect() as connection:
        assert connection.execute(sql("SELECT count(*) FROM export_chunks")).scalar() == 0

    download = records.get(f"/records/exports/{job_id}/download")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "attachment; filename=decision-records.csv" == download.headers["Content-Disposition"]
    downloaded = download.get_data(as_text=True)  # (read a streamed response before the next request)
    assert downloaded == records.get("/records/export.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(downloaded)))
    assert len(rows) == 13 and any("\nand a second line" in row["information_shared"] for row in rows)

    exported = [e for e in _audits(app, "record.export") if e.object_type == "export_job"]
    assert len(exported) == 1 and exported[0].object_id == job_id and exported[0].detail["records"] == 13
    prepared = _audits(app, "record.export_prepare")
    assert len(prepared) == 1 and prepared[0].object_id == job_id and prepared[0].detail["format"] == "csv"


def test_a_json_export_job_with_filters_downloads_what_the_stream_gives(records, app):
    query = "author=pat&decision=do_not_share"
    job_id = _ask(records, "json", query)
    _wait_until_ready(records, job_id)
    download = records.get(f"/records/exports/{job_id}/download")
    assert download.mimetype == "application/json"
    downloaded = download.get_data(as_text=True)
    assert downloaded == records.get(f"/records/export.json?{query}").get_data(as_text=True)
    body = json.loads(downloaded)
    assert body["filters"] == {"author": "pat", "decision": "do_not_share"} and len(body["records"]) == 11
    assert _job(app, job_id).rows_done == 11
    page = records.get(f"/records/exports/{job_id}").get_data(as_text=True)
    assert "Practitioner: pat" in page and "decision=do_not_share" in page  # the filters, and back to them


def test_the_progress_page_shows_how_far_a_running_job_has_got_and_updates_itself(records, app):
    job_id = _stored_job(app, state="running", runner="elsewhere", attempts=1, rows_done=6,
                         started_at=utcnow(), heartbeat_at=utcnow())
    page = records.get(f"/records/exports/{job_id}").get_data(as_text=True)
    assert "6 of 13 records" in page and '<progress id="export-progress"' in page and 'value="6"' in page
    assert 'hx-trigger="every 1s"' in page and "seen=running-6" in page
    assert '<meta http-equiv="refresh" content="3">' in page and ">Refresh</a>" in page  # without JavaScript
    assert records.get(f"/records/exports/{job_id}/status?seen=running-6").status_code == 204  # nothing moved
    moved = records.get(f"/records/exports/{job_id}/status?seen=running-3")
    assert moved.status_code == 200 and "6 of 13 records" in moved.get_data(as_text=True)
    # Not ready: the download leads back to the progress page; a live runner's job is left alone.
    assert records.get(f"/records/exports/{job_id}/download").status_code == 303
    job = _job(app, job_id)
    assert (job.state, job.runner, job.attempts) == ("running", "elsewhere", 1)
    listing = records.get("/records/exports").get_data(as_text=True)
    assert f"/records/exports/{job_id}" in listing and "Preparing" in listing


def test_only_the_user_who_asked_sees_the_job_or_its_file(records, app):
    job_id = _ask(records, "csv")
    _wait_until_ready(records, job_id)
    for who in ("practitioner", "colleague", "other_records"):
        other = Client(app).sign_in(who)
        for path in ("", "/status", "/download"):
            assert other.get(f"/records/exports/{job_id}{path}").status_code == 404
        assert job_id not in other.get("/records/exports").get_data(as_text=True)
    anonymous = app.test_client().get(f"/records/exports/{job_id}/download")
    assert anonymous.status_code == 302 and "/sign-in" in anonymous.location
    assert [e for e in _audits(app, "record.export") if e.object_type == "export_job"] == []


@pytest.mark.parametrize("job_id", [uuid.uuid4().hex, "not-a-job", "0" * 31 + "g", "../export.csv", "A" * 32])
def test_an_unknown_or_tampered_job_id_is_not_found(records, job_id):
    for path in ("", "/status", "/download"):
        assert records.get(f"/records/exports/{job_id}{path}").status_code == 404


def test_a_tampered_known_job_id_is_not_found(records):
    job_id = _ask(records, "csv")
    _wait_until_ready(records, job_id)
    for tampered in (job_id.upper(), job_id[:-1], job_id + "0", job_id[:-1] + ("0" if job_id[-1] != "0" else "1")):
        assert records.get(f"/records/exports/{tampered}/download").status_code == 404


def test_asking_needs_a_csrf_token_and_a_known_format(records, app):
    records.get("/records")
    assert records.post("/records/exports", {"format": "csv"}, csrf=False).status_code == 400
    assert records.post("/records/exports", {"format": "xlsx"}).status_code == 400
    session = _session(app)
    assert session.query(ExportJob).count() == 0
    session.close()


def test_a_job_whose_runner_died_is_redone_from_the_start_by_the_cli(records, app):
    job_id = _died(app, "csv")
    result = app.test_cli_runner().invoke(args=["records", "run-exports"])
    assert result.exit_code == 0, result.output
    assert f"Export job {job_id}: ready" in result.output and "1 ready" in result.output
    job = _job(app, job_id)
    assert (job.state, job.rows_done, job.attempts) == ("ready", 13, 2) and job.runner != "dead-runner"
    download = records.get(f"/records/exports/{job_id}/download").get_data(as_text=True)
    assert "runner that died" not in download and "stray" not in download
    assert download == records.get("/records/export.csv").get_data(as_text=True)
    again = app.test_cli_runner().invoke(args=["records", "run-exports"])
    assert "0 ready" in again.output and _job(app, job_id).attempts == 2  # a finished job is left alone


def test_a_job_whose_runner_died_is_redone_when_its_progress_page_is_visited(records, app):
    job_id = _died(app, "json")
    page = records.get(f"/records/exports/{job_id}")  # claims it here, and runs it in the background
    assert page.status_code == 200
    _wait_until_ready(records, job_id)
    assert _job(app, job_id).attempts == 2
    download = records.get(f"/records/exports/{job_id}/download").get_data(as_text=True)
    assert "runner that died" not in download
    assert download == records.get("/records/export.json").get_data(as_text=True)


def test_a_job_that_keeps_killing_its_runner_is_failed_not_retried_for_ever(records, app):
    job_id = _stored_job(app, state="running", runner="dead", attempts=3, heartbeat_at=utcnow() - timedelta(hours=1))
    result = app.test_cli_runner().invoke(args=["records", "run-exports"])
    assert "1 given up" in result.output
    assert _job(app, job_id).state == "failed"
    page = records.get(f"/records/exports/{job_id}").get_data(as_text=True)
    assert "The export could not be finished" in page and "stopped 3 times" in page


@pytest.mark.parametrize("state", ["queued", "stale"])
def test_of_two_claimers_racing_for_one_job_exactly_one_wins(records, app, state):
    engine = app.extensions["db_engine"]
    for _ in range(5):
        if state == "queued":
            job_id = _stored_job(app)
        else:
            job_id = _stored_job(app, state="running", runner="dead", attempts=1,
                                 heartbeat_at=utcnow() - timedelta(hours=1))
        start = threading.Barrier(4)
        won = []

        def race():
            token = new_claim()
            start.wait()
            if claim(engine, job_id, token, utcnow() - timedelta(seconds=120), 3):
                won.append(token)

        racers = [threading.Thread(target=race) for _ in range(4)]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join(30)
        assert len(won) == 1
        job = _job(app, job_id)
        assert job.state == "running" and job.runner == won[0]


def test_a_running_job_with_a_fresh_heartbeat_cannot_be_claimed(records, app):
    job_id = _stored_job(app, state="running", runner="alive", attempts=1, heartbeat_at=utcnow())
    assert not claim(app.extensions["db_engine"], job_id, new_claim(), utcnow() - timedelta(seconds=120), 3)
    assert _job(app, job_id).runner == "alive"


def test_a_runner_that_lost_its_claim_stops_and_adds_nothing(records, app):
    from guide.records.export_jobs import run_claimed
    job_id = _stored_job(app)
    engine = app.extensions["db_engine"]
    assert claim(engine, job_id, "first", utcnow(), 3)
    with engine.begin() as connection:  # another runner took it over, as if "first" had gone quiet
        connection.execute(sql("UPDATE export_jobs SET runner = 'second' WHERE id = :id"), {"id": job_id})
    with app.app_context():
        assert run_claimed(app, job_id, "first") == "lost"
    job = _job(app, job_id)
    assert (job.state, job.runner, job.rows_done) == ("running", "second", 0)
    session = _session(app)
    assert session.query(ExportChunk).filter_by(job_id=job_id).count() == 0
    session.close()


def test_expired_jobs_lose_their_file_and_say_so(records, app):
    job_id = _ask(records, "csv")
    _wait_until_ready(records, job_id)
    with app.extensions["db_engine"].begin() as connection:
        connection.execute(sql("UPDATE export_jobs SET expires_at = :at WHERE id = :id"),
                           {"at": utcnow() - timedelta(minutes=1), "id": job_id})
    download = records.get(f"/records/exports/{job_id}/download")
    assert download.status_code == 303 and download.location.endswith(f"/records/exports/{job_id}")
    assert "This export has expired" in records.get(f"/records/exports/{job_id}").get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["records", "run-exports"])
    assert "Expired 1 export job(s)" in result.output
    session = _session(app)
    assert session.query(ExportChunk).filter_by(job_id=job_id).count() == 0
    assert session.get(ExportJob, job_id).state == "expired"
    session.close()
    assert not (Path(app.config["EXPORT_FOLDER"]) / job_id).exists()  # the file itself is gone
