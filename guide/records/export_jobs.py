"""Export jobs: a large export of decision records, made in the background and downloaded when ready.

Nothing lives in process memory, so several app machines can share one database:

- the job (who asked, the format, the filters, its state and progress) is a row of `export_jobs`;
- the file it produces is rows of `export_chunks` (in order, encrypted: it holds children's details);
- a runner claims a job with a conditional UPDATE (a compare-and-set on state and heartbeat: exactly
  one claimer's UPDATE matches), then writes the file a chunk at a time, each chunk in a short
  transaction of its own that also moves `rows_done` and the heartbeat — and only while the job is
  still its own, so a runner that lost its claim can add nothing.

The request that asks for an export commits the job, puts its id on the task queue
(guide/tasks.py) and returns at once; a worker process claims it and makes the file. If that
worker dies, the job's heartbeat goes stale: the queue's every-minute sweep, the next visit to its
progress page (on any machine) or `flask --app guide records run-exports` queues it again and a
worker redoes it from the start (its chunks are deleted first). Jobs expire after
EXPORT_JOB_HOURS: the sweep (and the same command, and, lazily, asking for a new export) deletes
their files.

The file is exactly what the direct export streams for the same filters: the runner writes out
what `exports.csv_rows` / `exports.json_rows` yield.
"""

from __future__ import annotations

import csv
import logging
import os
import re
import secrets
import time
from dataclasses import fields
from datetime import date, datetime, timedelta, timezone

import click
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.cli import with_appcontext
from huey import crontab
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.engine import Engine

from .. import tasks
from ..audit import audit
from ..models import ExportChunk, ExportJob, User, utcnow
from ..web import current_user, db, guidance, login_required
from .export_formats import csv_rows, json_rows
from .form import CONSENT_POSITIONS
from .visibility import RecordFilter, visible_records

huey = tasks.huey

log = logging.getLogger(__name__)

DEFAULTS = {
    "EXPORT_JOB_THRESHOLD": 5000,      # more records than this: the records page offers a job, not a stream
    "EXPORT_CHUNK_ROWS": 5000,         # records per stored chunk
    "EXPORT_CHUNK_MAX_CHARS": 8 << 20,  # ... or fewer, so a chunk stays a few megabytes whatever the records hold
    "EXPORT_JOB_STALE_SECONDS": 120,   # no heartbeat for this long: the runner is taken to have died
    "EXPORT_JOB_HEARTBEAT_SECONDS": 1,  # how often a runner records its progress (and so its heartbeat)
    "EXPORT_JOB_MAX_ATTEMPTS": 3,      # a job that kills its runner this often is failed, not retried
    "EXPORT_JOB_HOURS": 24,            # a job's file is deleted this long after it was asked for
    "EXPORT_JOB_KEEP_DAYS": 30,        # ... and the job's row this long after that
}

FORMATS = {"csv": ("CSV", "text/csv", "decision-records.csv"),
           "json": ("JSON", "application/json", "decision-records.json")}
ACTIVE = ("queued", "running")
JOB_ID = re.compile(r"[0-9a-f]{32}")

# RecordFilter field → the records page's query parameter (see records._filters).
FILTER_ARGS = {"date_from": "from", "date_to": "to", "team": "team", "flowchart": "flowchart",
               "decision": "decision", "consent": "consent", "author": "author", "subject_ref": "subject"}
FILTER_LABELS = {"date_from": "Recorded from", "date_to": "Recorded to", "team": "Team", "flowchart": "Flowchart",
                 "decision": "Decision", "consent": "Consent position", "author": "Practitioner",
                 "subject_ref": "Child's reference", "all_versions": "Versions"}


class LostJob(Exception):
    """The job is no longer this runner's (another claimed it after a stale heartbeat, or it expired)."""


def _config(app: Flask, name: str):
    return app.config.get(name, DEFAULTS[name])


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; every time stored here is UTC.
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


def filter_from_dict(stored: dict) -> RecordFilter:
    names = {field.name for field in fields(RecordFilter)}
    values = {}
    for key, value in (stored or {}).items():
        if key not in names:
            continue
        values[key] = date.fromisoformat(value) if key in ("date_from", "date_to") else value
    return RecordFilter(**values)


# --- creating and claiming ---------------------------------------------------------------------

def create_job(session, user: User, fmt: str, wanted: RecordFilter, hours: int) -> ExportJob:
    """A queued job in the caller's transaction (the caller commits, then claims and runs it)."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    _, total = visible_records(session, user, limit=0, wanted=wanted)
    now = utcnow()
    job = ExportJob(user_id=user.id, format=fmt, filters=wanted.as_dict(), state="queued", rows_total=total,
                    rows_done=0, attempts=0, created_at=now, expires_at=now + timedelta(hours=hours))
    session.add(job)
    session.flush()
    return job


def new_claim() -> str:
    return secrets.token_hex(16)


def claim(engine: Engine, job_id: str, token: str, stale_before: datetime, max_attempts: int) -> bool:
    """Take the job for one runner: a queued job, or a running one whose heartbeat is older than
    `stale_before`. One conditional UPDATE, so of any number of claimers exactly one wins."""
    now = utcnow()
    claimable = or_(ExportJob.state == "queued",
                    and_(ExportJob.state == "running",
                         or_(ExportJob.heartbeat_at.is_(None), ExportJob.heartbeat_at < stale_before)))
    with engine.begin() as connection:
        result = connection.execute(
            update(ExportJob)
            .where(ExportJob.id == job_id, claimable, ExportJob.attempts < max_attempts, ExportJob.expires_at > now)
            .values(state="running", runner=token, heartbeat_at=now, started_at=now, finished_at=None,
                    rows_done=0, error=None, attempts=ExportJob.attempts + 1))
        return result.rowcount == 1


def give_up_if_exhausted(engine: Engine, job_id: str, stale_before: datetime, max_attempts: int) -> bool:
    """A job whose runner died `max_attempts` times is failed rather than tried again."""
    with engine.begin() as connection:
        result = connection.execute(
            update(ExportJob)
            .where(ExportJob.id == job_id, ExportJob.state.in_(ACTIVE), ExportJob.attempts >= max_attempts,
                   or_(ExportJob.heartbeat_at.is_(None), ExportJob.heartbeat_at < stale_before))
            .values(state="failed", finished_at=utcnow(), runner=None,
                    error=f"The export stopped {max_attempts} times before it was finished."))
        if result.rowcount:
            connection.execute(delete(ExportChunk).where(ExportChunk.job_id == job_id))
        return bool(result.rowcount)


def stale_before(app: Flask) -> datetime:
    return utcnow() - timedelta(seconds=_config(app, "EXPORT_JOB_STALE_SECONDS"))


def is_stale(app: Flask, job: ExportJob) -> bool:
    if job.state not in ACTIVE:
        return False
    last = _aware(job.heartbeat_at) if job.state == "running" else _aware(job.created_at)
    return last is None or last < stale_before(app)


# --- running -----------------------------------------------------------------------------------

class _ChunkWriter:
    """Collects the export's text and stores it a chunk at a time in the file store, with the job's progress."""

    def __init__(self, app: Flask, job_id: str, token: str):
        self.engine: Engine = app.extensions["db_engine"]
        self.job_id, self.token = job_id, token
        self.file = app.extensions["file_store"].start(job_id, token)
        self.chunk_rows = max(1, int(_config(app, "EXPORT_CHUNK_ROWS")))
        self.max_chars = int(_config(app, "EXPORT_CHUNK_MAX_CHARS"))
        self.every = float(_config(app, "EXPORT_JOB_HEARTBEAT_SECONDS"))
        self.pieces: list[str] = []
        self.chars = 0
        self.seq = 0
        self.rows = 0
        self.rows_stored = 0
        self.last_beat = time.monotonic()

    def add(self, text: str) -> None:
        if text:
            self.pieces.append(text)
            self.chars += len(text)

    def counted(self, rows: int) -> None:
        """`rows` records are in what was added so far (or about to be)."""
        self.rows = rows
        if rows - self.rows_stored >= self.chunk_rows or self.chars >= self.max_chars:
            self._store()
        elif time.monotonic() - self.last_beat >= self.every:
            self._beat()

    def _mine(self):
        return (ExportJob.id == self.job_id, ExportJob.runner == self.token, ExportJob.state == "running")

    def _beat(self, connection=None, **values) -> None:
        statement = update(ExportJob).where(*self._mine()).values(rows_done=self.rows, heartbeat_at=utcnow(), **values)
        if connection is None:
            with self.engine.begin() as connection:
                result = connection.execute(statement)
        else:
            result = connection.execute(statement)
        if result.rowcount != 1:
            raise LostJob(self.job_id)
        self.last_beat = time.monotonic()

    def _store(self, **finish) -> None:
        with self.engine.begin() as connection:
            # The job row first: this checks the claim and holds the job while the chunk goes in
            # (a claimer waits for this transaction, so no other runner starts meanwhile).
            self._beat(connection)
            if self.pieces:
                self.file.write("".join(self.pieces))
                self.seq += 1
            if finish:
                self.file.finish()
                self._beat(connection, **finish)
        self.pieces.clear()
        self.chars = 0
        self.rows_stored = self.rows

    def finish(self) -> None:
        self._store(state="ready", finished_at=utcnow(), rows_total=self.rows)


def _write_csv(pieces, writer: _ChunkWriter) -> None:
    """Store the CSV as it comes, counting its records by reading it back as CSV (a cell may hold
    a line break, so lines are not records). Each line is stored as the reader takes it, so a
    chunk ends where a record ends, whatever size of pieces `csv_rows` yields."""
    def lines():
        carry = ""
        for piece in pieces:
            parts = (carry + piece).split("\n")
            carry = parts.pop()
            for part in parts:
                line = part + "\n"
                writer.add(line)
                yield line
        if carry:
            writer.add(carry)
            yield carry

    reader = csv.reader(lines())
    next(reader, None)  # the header
    for count, _ in enumerate(reader, start=1):
        writer.counted(count)


def _write_json(session, user, wanted, writer: _ChunkWriter) -> None:
    from ..api.views import record_json
    count = 0

    def counting(record):
        nonlocal count
        count += 1
        return record_json(record)

    for piece in json_rows(session, user, wanted, counting):
        writer.add(piece)
        writer.counted(count)


def run_claimed(app: Flask, job_id: str, token: str) -> str:
    """Make the file of a job this runner has claimed. Returns the state it left the job in."""
    engine: Engine = app.extensions["db_engine"]
    try:
        with engine.begin() as connection:
            owned = connection.execute(update(ExportJob).where(
                ExportJob.id == job_id, ExportJob.runner == token, ExportJob.state == "running"
            ).values(heartbeat_at=utcnow()))
            if owned.rowcount != 1:
                raise LostJob(job_id)
            # Redone from the start: whatever an earlier runner stored goes (its file goes when
            # this runner starts its own, in _ChunkWriter).
            connection.execute(delete(ExportChunk).where(ExportChunk.job_id == job_id))
        session = app.extensions["db_sessions"]()
        try:
            job = session.get(ExportJob, job_id)
            user = session.get(User, job.user_id)
            if user is None or not user.active:
                raise PermissionError("the user who asked for the export can no longer sign in")
            wanted = filter_from_dict(job.filters)
            writer = _ChunkWriter(app, job_id, token)
            if job.format == "csv":
                _write_csv(csv_rows(session, user, wanted), writer)
            else:
                _write_json(session, user, wanted, writer)
            writer.finish()
        finally:
            session.rollback()
            session.close()
        return "ready"
    except LostJob:
        log.info("export job %s: claimed by another runner or expired; this runner stops", job_id)
        return "lost"
    except Exception as problem:  # the job fails, visibly; the process carries on
        log.exception("export job %s failed", job_id)
        with engine.begin() as connection:
            failed = connection.execute(update(ExportJob).where(
                ExportJob.id == job_id, ExportJob.runner == token, ExportJob.state == "running"
            ).values(state="failed", finished_at=utcnow(), runner=None,
                     error=f"The export could not be finished ({type(problem).__name__})."))
            if failed.rowcount:
                connection.execute(delete(ExportChunk).where(ExportChunk.job_id == job_id))
        if failed.rowcount:
            app.extensions["file_store"].delete(job_id)
        return "failed"


def claim_and_run(app: Flask, job_id: str) -> str:
    """What a worker does with a queued job: claim it and make its file. A job another runner holds
    (a task delivered twice, or queued again while its runner lives) is left alone."""
    engine = app.extensions["db_engine"]
    token, before, attempts = new_claim(), stale_before(app), _config(app, "EXPORT_JOB_MAX_ATTEMPTS")
    if claim(engine, job_id, token, before, attempts):
        return run_claimed(app, job_id, token)
    if give_up_if_exhausted(engine, job_id, before, attempts):
        return "gave_up"
    return "not_claimed"


@huey.task(retries=2, retry_delay=5)
def run_export(job_id: str) -> str:
    """The worker's task: claim the export job and make its file; nothing if another runner has it."""
    return claim_and_run(tasks.current(), job_id)


def queue(job_id: str) -> None:
    """Hand the job to the task queue's workers (guide/tasks.py); the job is committed first."""
    run_export(job_id)


def revive_if_stale(app: Flask, job: ExportJob) -> bool:
    """A job whose runner died (or whose task was lost) goes back on the queue, for any worker."""
    if not is_stale(app, job):
        return False
    queue(job.id)
    return True


def requeue_stale(app: Flask) -> int:
    """The sweep: queue again every job whose runner died and every queued job left waiting, so
    a machine killed mid-export has its jobs finished by the others."""
    engine: Engine = app.extensions["db_engine"]
    before = stale_before(app)
    with engine.begin() as connection:
        stale = list(connection.execute(select(ExportJob.id).where(or_(
            and_(ExportJob.state == "queued", ExportJob.created_at < before),
            and_(ExportJob.state == "running",
                 or_(ExportJob.heartbeat_at.is_(None), ExportJob.heartbeat_at < before))
        )).order_by(ExportJob.created_at)).scalars())
    for job_id in stale:
        queue(job_id)
    return len(stale)


def expire(app: Flask) -> tuple[int, int]:
    """Delete the files of expired jobs (the job says it expired), and long-expired jobs' rows."""
    engine: Engine = app.extensions["db_engine"]
    now = utcnow()
    with engine.begin() as connection:
        due = list(connection.execute(select(ExportJob.id).where(
            ExportJob.expires_at <= now, ExportJob.state != "expired")).scalars())
    for job_id in due:
        app.extensions["file_store"].delete(job_id)
        with engine.begin() as connection:
            connection.execute(delete(ExportChunk).where(ExportChunk.job_id == job_id))
            connection.execute(update(ExportJob).where(ExportJob.id == job_id).values(state="expired", runner=None))
    gone_before = now - timedelta(days=_config(app, "EXPORT_JOB_KEEP_DAYS"))
    with engine.begin() as connection:
        old = list(connection.execute(select(ExportJob.id).where(ExportJob.expires_at < gone_before)).scalars())
        if old:
            connection.execute(delete(ExportChunk).where(ExportChunk.job_id.in_(old)))
            connection.execute(delete(ExportJob).where(ExportJob.id.in_(old)))
    return len(due), len(old)


@huey.periodic_task(crontab(minute="*"), retries=1)
def sweep_exports() -> dict:
    """Every minute, on a worker: queue again the jobs whose runner died; delete expired export files."""
    app = tasks.current()
    expired, removed = expire(app)
    return {"expired": expired, "removed": removed, "requeued": requeue_stale(app)}


def run_pending(app: Flask, echo=lambda message: None) -> dict:
    """What `records run-exports` does: expire old jobs, then run every queued job and every job
    whose runner died, here and now, one after another."""
    expired, removed = expire(app)
    if expired or removed:
        echo(f"Expired {expired} export job(s); removed {removed} long-expired job(s).")
    engine: Engine = app.extensions["db_engine"]
    attempts = _config(app, "EXPORT_JOB_MAX_ATTEMPTS")
    outcome = {"ready": 0, "failed": 0, "lost": 0, "gave_up": 0}
    before = stale_before(app)
    with engine.begin() as connection:
        candidates = list(connection.execute(select(ExportJob.id).where(or_(
            ExportJob.state == "queued",
            and_(ExportJob.state == "running",
                 or_(ExportJob.heartbeat_at.is_(None), ExportJob.heartbeat_at < before))
        )).order_by(ExportJob.created_at)).scalars())
    for job_id in candidates:
        token = new_claim()
        if claim(engine, job_id, token, before, attempts):
            state = run_claimed(app, job_id, token)
            outcome[state] += 1
            echo(f"Export job {job_id}: {state}")
        elif give_up_if_exhausted(engine, job_id, before, attempts):
            outcome["gave_up"] += 1
            echo(f"Export job {job_id}: failed (its runner stopped {attempts} times)")
    return outcome


@click.command("run-exports")
@with_appcontext
def run_exports_command():
    """Run queued export jobs and redo those whose runner died; delete expired exports."""
    outcome = run_pending(current_app._get_current_object(), click.echo)
    click.echo(f"Export jobs: {outcome['ready']} ready, {outcome['failed']} failed, "
               f"{outcome['gave_up']} given up.")


# --- pages -------------------------------------------------------------------------------------

bp = Blueprint("export_jobs", __name__, template_folder="templates")


def _own_job(job_id: str) -> ExportJob:
    """The signed-in user's own job, or 404 — the same whether it does not exist or is someone else's."""
    if not JOB_ID.fullmatch(job_id or ""):
        abort(404)
    job = db().get(ExportJob, job_id)
    if job is None or job.user_id != current_user().id:
        abort(404)
    return job


def _expired(job: ExportJob) -> bool:
    return job.state == "expired" or _aware(job.expires_at) <= utcnow()


def _records_query(job: ExportJob) -> dict:
    return {FILTER_ARGS[key]: value for key, value in (job.filters or {}).items() if key in FILTER_ARGS}


def _describe_filters(job: ExportJob) -> list[tuple[str, str]]:
    described = []
    for key, value in (job.filters or {}).items():
        if key == "all_versions":
            value = "Every version"
        elif key in ("date_from", "date_to"):
            value = date.fromisoformat(value).strftime("%-d %B %Y")
        elif key == "decision" and value in guidance().content.decisions:
            value = guidance().content.decisions[value].label
        elif key == "flowchart" and value in guidance().content.flowcharts:
            value = guidance().content.flowcharts[value].title
        elif key == "consent":
            value = CONSENT_POSITIONS.get(value, value)
        described.append((FILTER_LABELS.get(key, key), str(value)))
    return described


def _status_context(job: ExportJob) -> dict:
    total = job.rows_total or 0
    done = min(job.rows_done or 0, total) if total else (job.rows_done or 0)
    return {"job": job, "expired": _expired(job), "done": done, "total": total,
            "percent": int(100 * done / total) if total else 0, "label": FORMATS[job.format][0],
            "seen": f"{job.state}-{job.rows_done}", "active": job.state in ACTIVE and not _expired(job)}


@bp.post("/records/exports")
@login_required
def create():
    from .views import (
        _filters,  # the same filters as the records page and the direct exports
    )
    fmt = request.form.get("format", "")
    if fmt not in FORMATS:
        abort(400)
    app = current_app._get_current_object()
    expire(app)  # lazily: old files go whenever someone asks for a new one
    wanted = _filters()
    job = create_job(db(), current_user(), fmt, wanted, _config(app, "EXPORT_JOB_HOURS"))
    audit(db(), current_user().id, "record.export_prepare", "export_job", job.id, format=fmt,
          filters=wanted.as_dict(), records=job.rows_total)
    db().commit()
    queue(job.id)
    return redirect(url_for("export_jobs.show", job_id=job.id), 303)


@bp.get("/records/exports")
@login_required
def mine():
    jobs = list(db().scalars(select(ExportJob).where(ExportJob.user_id == current_user().id)
                             .order_by(ExportJob.created_at.desc()).limit(50)))
    return render_template("records/export_jobs.html", jobs=[_status_context(job) for job in jobs],
                           hours=_config(current_app, "EXPORT_JOB_HOURS"))


@bp.get("/records/exports/<job_id>")
@login_required
def show(job_id: str):
    job = _own_job(job_id)
    if revive_if_stale(current_app._get_current_object(), job):
        db().refresh(job)
    return render_template("records/export_job.html", filters=_describe_filters(job), records_query=_records_query(job),
                           hours=_config(current_app, "EXPORT_JOB_HOURS"), **_status_context(job))


@bp.get("/records/exports/<job_id>/status")
@login_required
def status(job_id: str):
    """The progress fragment htmx polls; 204 (nothing to redraw) while nothing has moved."""
    job = _own_job(job_id)
    if revive_if_stale(current_app._get_current_object(), job):
        db().refresh(job)
    context = _status_context(job)
    if request.args.get("seen") == context["seen"] and context["active"]:
        return "", 204
    return render_template("records/_export_status.html", announce=True, **context)


@bp.get("/records/exports/<job_id>/download")
@login_required
def download(job_id: str):
    job = _own_job(job_id)
    if job.state != "ready" or _expired(job):
        return redirect(url_for("export_jobs.show", job_id=job.id), 303)
    _, mimetype, filename = FORMATS[job.format]
    audit(db(), current_user().id, "record.export", "export_job", job.id, format=job.format,
          filters=job.filters, records=job.rows_done)
    db().commit()

    store = current_app.extensions["file_store"]
    link = store.link(job.id, job.runner, filename, mimetype)
    if link:  # object storage: a short-lived link straight to the file
        return redirect(link, 303)
    # One part in memory at a time, in order.
    return Response(stream_with_context(store.read(job.id, job.runner)), mimetype=mimetype,
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


def init_export_jobs(app: Flask) -> None:
    for name, value in DEFAULTS.items():
        from_environment = os.environ.get(f"GUIDE_{name}")  # e.g. GUIDE_EXPORT_JOB_STALE_SECONDS
        app.config.setdefault(name, type(value)(from_environment) if from_environment else value)
    from ..file_store import init_file_store
    init_file_store(app)
    app.register_blueprint(bp)
