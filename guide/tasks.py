"""Background work on a task queue (Huey), run by a worker process beside the web processes.

On one machine the queue is a SQLite file in the instance folder (`instance/tasks.sqlite3`): no
extra server. Scaled out, set REDIS_URL and every web process and worker shares a Redis queue.
The worker is `huey_consumer guide.worker.huey` (`make run` starts one for you).

What runs on it:
- export jobs, whose tasks are defined beside them (records/export_jobs.py: `run_export`, and
  `sweep_exports` every minute): the web request queues the job and returns; a worker claims it
  (the job's own compare-and-set, so a task delivered twice runs once) and makes the file; jobs
  whose runner died (a worker killed mid-export, on any machine) are queued again;
- here, nightly, both audit chains are verified (the same functions as `audit verify` and
  `index verify-audit`), and the records past retention are listed — and purged only when
  GUIDE_RETENTION_PURGE=1 says your agency agreed to it.

The queue holds only ids, never anything about a child. Nothing acknowledged depends on it: a
job is committed in the database before it is queued, so a lost queue message is made good by
the every-minute sweep.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from huey import Huey, crontab
from huey.storage import RedisStorage, SqliteStorage

log = logging.getLogger(__name__)

# The storage is chosen when an app is built (configure below), from its configuration.
huey = Huey("guide", storage_class=SqliteStorage, filename=":memory:", utc=True)
_app: Flask | None = None


def configure(app: Flask) -> None:
    """Point the queue where the app's configuration says, and give tasks this app."""
    global _app
    _app = app
    if app.config.get("TASKS_IMMEDIATE"):
        # Tests: a task runs in the request that queues it, as a worker would run it.
        huey.immediate = True
        return
    huey.immediate = False
    redis_url = app.config.get("REDIS_URL")
    if redis_url:
        huey.storage_class, huey.storage_kwargs = RedisStorage, {"url": redis_url}
    else:
        path = Path(app.config.get("TASKS_DATABASE") or Path(app.instance_path) / "tasks.sqlite3")
        huey.storage_class, huey.storage_kwargs = SqliteStorage, {"filename": str(path)}
    huey.storage = huey.create_storage()


def current() -> Flask:
    if _app is None:
        raise RuntimeError("No app: build one with guide.create_app() before running tasks")
    return _app


@huey.periodic_task(crontab(minute="15", hour="2"), retries=1)
def verify_audit_chains() -> dict:
    """Nightly: both audit trails, their keyed chains and checkpoints, as `audit verify` and `index verify-audit`
    check them (reading only)."""
    from .audit import verify
    from .index.audit import verify as verify_index
    engine = current().extensions["db_engine"]
    results = {"records": verify(engine), "index": verify_index(engine)}
    for chain, (checked, broken, why) in results.items():
        if broken:
            log.error("audit chain %s BROKEN at %s: %s (%s read)", chain, broken, why, checked)
        else:
            log.info("audit chain %s intact: %s verified", chain, checked)
    return {chain: broken for chain, (_, broken, _) in results.items()}


@huey.periodic_task(crontab(minute="45", hour="2"), retries=1)
def retention() -> dict:
    """Nightly: list the records past retention; purge them only where GUIDE_RETENTION_PURGE=1."""
    from .records.saving import past_retention, purge
    app = current()
    session = app.extensions["db_sessions"]()
    try:
        due = past_retention(session, int(app.config["RETENTION_DAYS"]))
        log.info("%d decision record(s) past the retention period of %s days", len(due), app.config["RETENTION_DAYS"])
        purged = 0
        if due and app.config.get("RETENTION_PURGE"):
            purged = purge(session, [reference for reference, _, _ in due])
            session.commit()
        return {"due": len(due), "purged": purged}
    finally:
        session.close()


@huey.periodic_task(crontab(minute="*/5"), retries=1)
def flag_overdue_advice() -> int:
    """Every five minutes: tell every adviser of an agency about requests waiting past its limit."""
    from .advice.asking import flag_overdue
    app = current()
    with app.app_context():
        session = app.extensions["db_sessions"]()
        try:
            flagged = flag_overdue(session, app.extensions["guidance"])
            session.commit()  # the emails go after the commit, as from a page
            return flagged
        finally:
            session.close()
