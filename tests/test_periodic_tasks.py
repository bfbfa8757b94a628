"""The task worker's periodic jobs: the export sweep, nightly audit verification, retention (listing; purging only when agreed)."""

from sqlalchemy import select, text as sql

from guide.models import AuditEvent, DecisionRecord
from guide.records.export_jobs import sweep_exports
from guide.tasks import retention, verify_audit_chains

from tests.conftest import Client
from tests.records.test_export_jobs import _died, _job
from tests.records.test_records_officer import save


def _records(app) -> int:
    session = app.extensions["db_sessions"]()
    try:
        return len(list(session.scalars(select(DecisionRecord.id))))
    finally:
        session.close()


def test_the_sweep_has_a_job_whose_runner_died_made_again(app):
    save(Client(app).sign_in("practitioner"), [("purpose", "no")], subject_ref="CHILD-1")
    job_id = _died(app)
    assert sweep_exports.call_local()["requeued"] == 1
    job = _job(app, job_id)
    assert (job.state, job.attempts) == ("ready", 2)


def test_the_nightly_verification_passes_an_intact_chain_and_names_an_altered_event(app):
    save(Client(app).sign_in("practitioner"), [("purpose", "no")], subject_ref="CHILD-1")
    assert verify_audit_chains.call_local() == {"records": None, "index": None}
    with app.extensions["db_engine"].begin() as connection:
        first = connection.execute(select(AuditEvent.id).order_by(AuditEvent.seq).limit(1)).scalar()
        connection.execute(sql("UPDATE audit_events SET action = 'user.nothing_to_see' WHERE id = :id"), {"id": first})
    assert verify_audit_chains.call_local()["records"] == first


def test_retention_lists_records_past_the_period_and_purges_only_when_agreed(app):
    save(Client(app).sign_in("practitioner"), [("purpose", "no")], subject_ref="CHILD-1")
    app.config["RETENTION_DAYS"] = -1  # every record is past it
    assert retention.call_local() == {"due": 1, "purged": 0}
    assert _records(app) == 1
    app.config["RETENTION_PURGE"] = True
    assert retention.call_local() == {"due": 1, "purged": 1}
    assert _records(app) == 0
