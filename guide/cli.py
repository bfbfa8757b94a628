"""`flask --app guide …` commands: init-db, users create/token, demo, and (via entry point) content check."""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from sqlalchemy import select

from .accounts.users import (
    UserError,
    create_user,
    end_sessions,
    find_by_email,
    issue_token,
    revoke_all_tokens,
    revoke_token,
    set_active,
    set_password,
    token_state,
)
from .audit import audit
from .crypto import new_key
from .db import migrate
from .flows import ContentError, enumerate_paths
from .models import ApiToken

DEMO_PASSWORD = "demo-password-2026"
DEMO_USERS = [
    ("practitioner@example.org", "Priya Patel", "practitioner", "Health visitor", "Northshire Community Health", "Health visiting north"),
    ("teacher@example.org", "Tom Okafor", "practitioner", "Year head", "Northshire Academy", "Pastoral"),
    ("trainer@example.org", "Tess Morgan", "trainer", "Safeguarding trainer", "Northshire Safeguarding Partnership", "Training"),
    ("records@example.org", "Rashid Khan", "records_officer", "Records officer", "Northshire Community Health", "Information governance"),
    ("index@example.org", "Ines Laurent", "index_manager", "Index manager", "Northshire Council", "Children's index"),
    ("admin@example.org", "Ada Brown", "admin", "Administrator", "Northshire Council", "Digital"),
    ("social@example.org", "Sam Adeyemi", "practitioner", "Child protection social worker", "Northshire Children's Services", "Child protection"),
    ("adviser@example.org", "Nadia Okonjo", "practitioner", "Named nurse for safeguarding", "Northshire Community Health", "Safeguarding"),
]
# Advisers for the demo: they answer requests for advice and countersign records in their agency.
DEMO_ADVISERS = {"adviser@example.org": "Named nurse for safeguarding"}
# Children's index access for the demo (IDX §2.27): designation and service category.
DEMO_INDEX = {
    "practitioner@example.org": ("user", "school_community_nurse"),
    "teacher@example.org": ("user", "pastoral_teacher"),
    "social@example.org": ("cp_social_worker", "social_care"),
    "records@example.org": ("subject_access", ""),
}
DEMO_CHILDREN = 500


@click.group("content")
def content_group():
    """Check the guidance content in content/."""


@content_group.command("check")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The content folder (default: GUIDE_CONTENT_DIR or ./content).")
@click.option("--database", "database_url", default=None,
              help="Warn about stored work on content that is gone (default: DATABASE_URL, or the instance folder's database).")
def content_check(directory: Path | None, database_url: str | None):
    """Validate the content; print every problem with file and line. Exit 1 if any."""
    from .config import DEFAULT_CONTENT
    directory = directory or Path(os.environ.get("GUIDE_CONTENT_DIR") or DEFAULT_CONTENT)
    from .guidance import check_all
    try:
        parts = check_all(directory)
        content, scenarios = parts["content"], parts.get("scenarios", {})
    except ContentError as error:
        for issue in error.issues:
            click.echo(str(issue), err=True)
        click.echo(f"{len(error.issues)} problem(s): the app will not start until they are fixed.", err=True)
        sys.exit(1)
    for chart in content.flowcharts.values():
        click.echo(f"{chart.id}: {len(chart.questions)} questions, {len(chart.outcomes)} outcomes, "
                   f"{len(enumerate_paths(chart))} paths, every one ending in an outcome")
    if scenarios:
        points = sum(len(s.decision_points) for s in scenarios.values())
        click.echo(f"case examples: {len(scenarios)} scenarios, {points} decision points")
    if "text" in parts:
        click.echo(f"guidance text: {len(parts['text'].paragraphs)} paragraphs, {len(parts['text'].terms)} glossary terms")
    if "chat" in parts:
        click.echo("chat words: OK")
    if "index_policy" in parts:
        policy = parts["index_policy"]
        click.echo(f"index policy: {len(policy.categories)} service categories, {len(policy.reasons)} look-up reasons")
    if "advice_policy" in parts:
        click.echo(f"advice policy: a default and {len(parts['advice_policy'].agencies)} agency setting(s)")
    from .content_in_use import default_database_url, missing_references
    database_url = database_url or default_database_url()
    if database_url:
        known = set(content.flowcharts) | set(scenarios)
        for warning in missing_references(database_url, known):
            click.echo(f"warning: {warning}", err=True)
    click.echo(f"Content OK (version {content.version}).")


def register_cli(app: Flask) -> None:
    @app.cli.command("init-db")
    def init_db():
        """Create the database, or bring it up to date."""
        migrate(current_app.config["DATABASE_URL"], current_app.extensions["keyring"])
        click.echo(f"Database ready: {_safe_url(current_app.config['DATABASE_URL'])}")

    users = AppGroup("users", help="Manage users.")

    @users.command("create")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option("--role", required=True, type=click.Choice(["practitioner", "trainer", "records_officer", "index_manager", "admin"]))
    @click.option("--agency", required=True)
    @click.option("--team", default="")
    @click.option("--job-title", default="")
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    def users_create(email, name, role, agency, team, job_title, password):
        """Create a user."""
        session = current_app.extensions["db_sessions"]()
        try:
            user = create_user(session, email=email, name=name, role=role, agency=agency, team=team,
                               job_title=job_title, password=password)
            session.commit()
        except UserError as error:
            raise click.ClickException(str(error)) from None
        finally:
            session.close()
        click.echo(f"Created {role} {user.email}")

    def _find_user(session, email):
        user = find_by_email(session, email)
        if user is None:
            raise click.ClickException(f"no user with email {email}")
        return user

    def _on_user(email, change):
        """Run change(session, user) for the user with this email, and commit; a UserError is the command's error."""
        session = current_app.extensions["db_sessions"]()
        try:
            result = change(session, _find_user(session, email))
            session.commit()
            return result
        except UserError as error:
            raise click.ClickException(str(error)) from None
        finally:
            session.close()

    @users.command("token")
    @click.argument("email")
    @click.option("--days", type=int, default=None, help="How many days the token works (default GUIDE_API_TOKEN_DAYS, 90).")
    def users_token(email, days):
        """Print a new API token for a user (shown once; only its hash is kept)."""
        click.echo(_on_user(email, lambda session, user: issue_token(session, user, days)))

    @users.command("tokens")
    @click.argument("email")
    def users_tokens(email):
        """List a user's API tokens: id, issued, expires, state."""
        def listing(session, user):
            rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
            return [f"{row.id}\t{row.created_at.date().isoformat()}\t"
                    f"{row.expires_at.date().isoformat() if row.expires_at else 'never'}\t{token_state(row)}" for row in rows]
        for line in _on_user(email, listing):
            click.echo(line)

    @users.command("revoke-token")
    @click.argument("email")
    @click.option("--token", "token_id", type=int, default=None, help="The token's id (from `users tokens`); all tokens when left out.")
    def users_revoke_token(email, token_id):
        """Revoke one of a user's API tokens, or all of them (audited)."""
        def revoke(session, user):
            if token_id is None:
                return revoke_all_tokens(session, user)
            row = session.get(ApiToken, token_id)
            if row is None or row.user_id != user.id:
                raise UserError(f"{email} has no token {token_id}")
            revoke_token(session, token_id)
            return 1
        click.echo(f"{email}: {_on_user(email, revoke)} token(s) revoked")

    @users.command("deactivate")
    @click.argument("email")
    def users_deactivate(email):
        """Deactivate a user: they cannot sign in, their sessions end, their tokens stop working (audited)."""
        _on_user(email, lambda session, user: set_active(session, user, False))
        click.echo(f"{email}: deactivated")

    @users.command("activate")
    @click.argument("email")
    def users_activate(email):
        """Reactivate a deactivated user (audited)."""
        _on_user(email, lambda session, user: set_active(session, user, True))
        click.echo(f"{email}: active")

    @users.command("end-sessions")
    @click.argument("email")
    def users_end_sessions(email):
        """End every signed-in session of a user, on every device (audited)."""
        click.echo(f"{email}: {_on_user(email, end_sessions)} session(s) ended")

    @users.command("set-password")
    @click.argument("email")
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    def users_set_password(email, password):
        """Change a user's password (common passwords are refused); their sessions end (audited)."""
        _on_user(email, lambda session, user: set_password(session, user, password))
        click.echo(f"{email}: password changed")

    @users.command("designate")
    @click.argument("email")
    @click.option("--index", "designation", type=click.Choice(["none", "user", "cp_social_worker", "subject_access"]), default=None,
                  help="Children's index access: none, a designated user, a child protection social worker, "
                       "or subject access reports only.")
    @click.option("--service", "service_category", default="", help="The user's service category (for visibility C).")
    @click.option("--adviser/--no-adviser", "adviser", default=None,
                  help="Make the user an adviser of their agency (or stop them being one): they answer requests "
                       "for advice and countersign records.")
    @click.option("--adviser-role", default="", help="How practitioners know them, e.g. 'Designated safeguarding "
                                                     "lead', 'Named nurse', 'Caldicott Guardian' (default: job title).")
    @click.option("--newly-qualified/--qualified", "newly_qualified", default=None,
                  help="Whether the agency's countersignature policy treats them as newly qualified.")
    def users_designate(email, designation, service_category, adviser, adviser_role, newly_qualified):
        """Give (or take away) children's index access (IDX §2.27), the adviser role, or mark newly qualified."""
        if designation is None and adviser is None and newly_qualified is None:
            raise click.UsageError("say what to designate: --index, --adviser/--no-adviser or --newly-qualified/--qualified")
        session = current_app.extensions["db_sessions"]()
        try:
            user = find_by_email(session, email)
            if user is None:
                raise click.ClickException(f"no user with email {email}")
            said = []
            if designation is not None:
                policy = current_app.extensions["guidance"].index_policy
                if service_category and (policy is None or service_category not in policy.categories):
                    raise click.ClickException(f"unknown service category {service_category}")
                user.index_designation = "" if designation == "none" else designation
                user.service_category = service_category or user.service_category
                audit(session, None, "user.designate", "user", user.id, index=designation)
                said.append(f"index access {designation}")
            if adviser is not None:
                role = (adviser_role.strip() or user.job_title or "Adviser")[:100] if adviser else ""
                user.adviser_role = role
                audit(session, None, "user.designate", "user", user.id, adviser=role)
                said.append(f"adviser of {user.agency} as {role}" if adviser else "not an adviser")
            if newly_qualified is not None:
                user.newly_qualified = newly_qualified
                audit(session, None, "user.designate", "user", user.id, newly_qualified=newly_qualified)
                said.append("newly qualified" if newly_qualified else "qualified")
            session.commit()
        finally:
            session.close()
        click.echo(f"{email}: {'; '.join(said)}")

    app.cli.add_command(users)

    records = AppGroup("records", help="Decision records.")

    @records.command("retention")
    @click.option("--days", type=int, default=lambda: int(os.environ.get("GUIDE_RETENTION_DAYS", 7 * 365)),
                  show_default="GUIDE_RETENTION_DAYS or 2555 (7 years)", help="How long records are kept.")
    @click.option("--purge", is_flag=True, help="Delete the records listed, after confirmation.")
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation (for scheduled jobs).")
    def records_retention(days, purge, yes):
        """List the decision records past the retention period; with --purge, delete them (audited)."""
        from .records.saving import past_retention
        from .records.saving import purge as purge_records
        session = current_app.extensions["db_sessions"]()
        try:
            due = past_retention(session, days)
            for reference, count, newest in due:
                click.echo(f"{reference}  {count} version(s), newest {newest:%Y-%m-%d}")
            click.echo(f"{len(due)} record(s) older than {days} days.")
            if purge and due and (yes or click.confirm(f"Delete these {len(due)} records and every version?")):
                removed = purge_records(session, [reference for reference, _, _ in due])
                session.commit()
                click.echo(f"Purged {removed} version(s) of {len(due)} record(s); the audit trail says which.")
        finally:
            session.close()

    from .records.export_jobs import run_exports_command
    records.add_command(run_exports_command)  # flask --app guide records run-exports
    app.cli.add_command(records)

    audit_group = AppGroup("audit", help="The audit trails: decision records and users; the children's index.")

    @audit_group.command("verify")
    @click.option("--checkpoint", "checkpoint_file", type=click.Path(exists=True, dir_okay=False),
                  help="Also compare with checkpoints exported earlier by `audit checkpoint`.")
    def audit_verify(checkpoint_file):
        """Check the decision records' chains and their checkpoints; name the first broken event; and open
        every encrypted value at its row, naming any that was altered or moved. Reads only."""
        from .audit import verify
        values_intact = _report_encrypted_values()
        _report_verdict(verify(current_app.extensions["db_engine"], _exported("records", checkpoint_file)),
                        "event", "events")
        if not values_intact:
            sys.exit(1)

    @audit_group.command("checkpoint")
    @click.option("--out", type=click.File("w"), default="-", show_default=True,
                  help="Where to write the signed chain heads (JSON), e.g. a write-once store.")
    def audit_checkpoint(out):
        """Export both trails' chain heads, signed with the audit key: verify compares with them later."""
        import json

        from .audit_chain import audit_setup, heads
        engine = current_app.extensions["db_engine"]
        setup = audit_setup(engine)
        exported = []
        with engine.connect() as connection:
            for trail in ("records", "index"):
                for chain, (seq, digest) in sorted(heads(connection, trail).items()):
                    setup.checkpoints.record(trail, chain, seq, digest)
                    exported.append(setup.checkpoints.signed(trail, chain, seq, digest))
        json.dump({"checkpoints": exported}, out, indent=1)
        out.write("\n")
        click.echo(f"Exported {len(exported)} chain heads.", err=True)

    @audit_group.command("rekey")
    def audit_rekey():
        """Once, after upgrading: check the entries chained before the chains were keyed, and key them."""
        from . import audit as records_trail
        from .audit_chain import LEGACY_CHAIN, audit_setup, heads, move_head, lock_head
        from .index import audit as index_trail
        from sqlalchemy import select

        from .models import AuditEvent, IndexAudit
        engine = current_app.extensions["db_engine"]
        setup = audit_setup(engine)
        done = {}
        for module, model in ((records_trail, AuditEvent), (index_trail, IndexAudit)):
            with engine.begin() as connection:
                legacy = connection.execute(select(model.id).where(model.chain == LEGACY_CHAIN).limit(1)).first()
                if legacy is None or LEGACY_CHAIN in heads(connection, module.TRAIL):
                    continue  # nothing from before the keyed chains, or keyed already
                lock_head(connection, setup.key, module.TRAIL, LEGACY_CHAIN)
                try:
                    seq, old_head, new_head = module.rekey_legacy(connection, setup.key)
                except ValueError as broken:
                    raise click.ClickException(f"{broken}. Nothing was re-keyed.") from None
                move_head(connection, module.TRAIL, LEGACY_CHAIN, seq, new_head)
            setup.checkpoints.record(module.TRAIL, LEGACY_CHAIN, seq, new_head)
            done[module.TRAIL] = {"entries": seq, "old_head": old_head}
        if not done:
            click.echo("Nothing to re-key: both trails are keyed already.")
            return
        # The record of when it was done, and what the unkeyed chains ended with, in both trails.
        session = current_app.extensions["db_sessions"]()
        try:
            audit(session, None, "audit.rekey", "audit", "legacy", **done)
            session.commit()
        finally:
            session.close()
        from .index.audit import append
        append(engine, user_id=None, action="rekey", detail=done)
        for trail, what in done.items():
            click.echo(f"{trail}: {what['entries']} entries keyed (the unkeyed chain ended {what['old_head'][:12]}…).")

    app.cli.add_command(audit_group)

    advice = AppGroup("advice", help="Advice and sign-off.")

    @advice.command("flag-overdue")
    def advice_flag_overdue():
        """Tell every adviser of an agency about requests waiting past its limit (the task worker runs it every five minutes)."""
        from .advice.asking import flag_overdue
        session = current_app.extensions["db_sessions"]()
        try:
            flagged = flag_overdue(session, current_app.extensions["guidance"])
            session.commit()
        finally:
            session.close()
        click.echo(f"{flagged} request(s) waiting past their agency's limit flagged to its advisers.")

    app.cli.add_command(advice)

    keys = AppGroup("keys", help="Encryption keys for the personal details held at rest.")

    @keys.command("new")
    def keys_new():
        """Print a new key, to put first in GUIDE_ENCRYPTION_KEYS (then run `keys rotate`)."""
        click.echo(new_key())

    @keys.command("status")
    def keys_status():
        """How many encrypted values each key holds, column by column."""
        from .db import Base
        from .key_rotation import status
        keyring = current_app.extensions["keyring"]
        for column, tally in status(current_app.extensions["db_engine"], Base.metadata).items():
            held = ", ".join(f"{key_id}{' (newest)' if key_id == keyring.primary_id else ''}: {count}"
                             for key_id, count in sorted(tally.items())) or "empty"
            click.echo(f"{column}: {held}")
        click.echo(f"Keys in GUIDE_ENCRYPTION_KEYS: {', '.join(keyring.ids)} (the first encrypts).")

    @keys.command("check")
    def keys_check():
        """Open every encrypted value at its row; name each that was altered, moved from another row, or
        is under a key that is missing. Reads only."""
        if not _report_encrypted_values():
            sys.exit(1)

    @keys.command("rotate")
    def keys_rotate():
        """Re-encrypt every value still under an older key with the newest one; safe to stop and rerun."""
        from .db import Base
        from .key_rotation import rotate
        keyring = current_app.extensions["keyring"]
        engine = current_app.extensions["db_engine"]
        changed = rotate(engine, Base.metadata, keyring,
                         progress=lambda table, done: click.echo(f"  {table}: {done} rows so far"))
        session = current_app.extensions["db_sessions"]()
        try:
            from .accounts.author_search import reindex_all
            reindexed = reindex_all(session)  # the author filter's keyed hashes, under the newest key
            click.echo(f"  user_search_keys: {reindexed} users indexed again")
            audit(session, None, "keys.rotate", "keyring", keyring.primary_id, rows=changed)
            session.commit()
        finally:
            session.close()
        click.echo(f"Rotated {changed} rows to key {keyring.primary_id}. "
                   "Check `keys status`, then remove the older keys from GUIDE_ENCRYPTION_KEYS.")

    app.cli.add_command(keys)

    index = AppGroup("index", help="The children's index.")

    @index.command("generate")
    @click.option("--children", type=int, default=1000, show_default=True)
    @click.option("--seed", type=int, default=1, show_default=True)
    def index_generate(children, seed):
        """Add synthetic children (made up, no real people) for demos and benchmarks."""
        from .index.synthetic import generate
        added = generate(current_app.extensions["db_engine"], children, seed=seed)
        click.echo(f"Added {added} synthetic children.")

    @index.command("verify-audit")
    @click.option("--checkpoint", "checkpoint_file", type=click.Path(exists=True, dir_okay=False),
                  help="Also compare with checkpoints exported earlier by `audit checkpoint`.")
    def index_verify_audit(checkpoint_file):
        """Check the index audit trail's chains and their checkpoints; name the first broken entry. Reads only."""
        from .index.audit import verify
        _report_verdict(verify(current_app.extensions["db_engine"], _exported("index", checkpoint_file)),
                        "entry", "entries")

    app.cli.add_command(index)

    @app.cli.command("demo")
    def demo():
        """First-run setup: create the database and the demo users if missing, and say how to sign in."""
        migrate(current_app.config["DATABASE_URL"], current_app.extensions["keyring"])
        session = current_app.extensions["db_sessions"]()
        try:
            for email, name, role, job_title, agency, team in DEMO_USERS:
                if find_by_email(session, email) is None:
                    user = create_user(session, email=email, name=name, role=role, agency=agency, team=team,
                                       job_title=job_title, password=DEMO_PASSWORD)
                    user.index_designation, user.service_category = DEMO_INDEX.get(email, ("", ""))
                    user.adviser_role = DEMO_ADVISERS.get(email, "")
            created = _demo_records(session)
            session.commit()
        finally:
            session.close()
        children = _demo_children()
        if created:
            click.echo(f"Demo decision records: {created} saved for practitioner@example.org")
        if children:
            click.echo(f"Demo children's index: {children} synthetic children (no real people)")
        click.echo("Demo users (password for all: %s):" % DEMO_PASSWORD)
        for email, name, role, *_ in DEMO_USERS:
            adviser = f" (adviser: {DEMO_ADVISERS[email]})" if email in DEMO_ADVISERS else ""
            click.echo(f"  {email:28} {role:16} {name}{adviser}")


def _demo_children() -> int:
    """A small synthetic children's index for the demo, once."""
    from sqlalchemy import func, select

    from .models import IndexChild
    if current_app.extensions["guidance"].index_policy is None:
        return 0
    engine = current_app.extensions["db_engine"]
    with engine.connect() as connection:
        if connection.execute(select(func.count()).select_from(IndexChild)).scalar():
            return 0
    from .index.synthetic import generate
    return generate(engine, DEMO_CHILDREN, seed=2026)


def _demo_records(session) -> int:
    """Walk the first listed flowchart to a few different decisions and save a record of each.

    The answers come from the flowchart's own paths (the shortest one to each decision), so
    the demo follows whatever the content says.
    """
    from sqlalchemy import select

    from .decisions.steps import answer, start_walk
    from .models import DecisionRecord
    from .records.saving import save_record

    guidance = current_app.extensions["guidance"]
    user = find_by_email(session, DEMO_USERS[0][0])
    if session.scalar(select(DecisionRecord.id).where(DecisionRecord.author_id == user.id).limit(1)):
        return 0
    chart = guidance.listed_flowcharts()[0]
    shortest = {}
    for path in enumerate_paths(chart):
        decision = chart.outcomes[path.outcome].decision
        if decision not in shortest or len(path.steps) < len(shortest[decision].steps):
            shortest[decision] = path
    details = {
        "consent_position": "refused", "advice_sought": "yes", "advice_from": "Named nurse for safeguarding",
        "information_shared": "Dates of missed appointments and the health visitor's observations (marked as opinion).",
        "recipient_name": "Dana Social", "recipient_job_title": "Social worker",
        "recipient_organisation": "Northshire Children's Services", "recipient_contact": "0100 000 0000",
        "share_method": "secure_email", "shared_on": date.today().isoformat(), "person_told": "yes",
        "checklist": [item.id for item in guidance.content.sharing_checklist],
        "basis": "public_interest", "basis_detail": "Reasonable cause to believe the child is at risk of significant harm.",
        "notes": "Demo record: made up, about no real child.",
    }
    reached = [decision for decision in guidance.content.decisions if decision in shortest]
    for number, decision in enumerate(reached, start=1):
        walk = start_walk(session, guidance, user, chart.id)
        for question_id, value in shortest[decision].steps:
            answer(session, guidance, walk, user, question_id, value)
        save_record(session, guidance, walk, user, {**details, "subject_ref": f"DEMO-{number:03d}"})
    return len(reached)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    return make_url(url).render_as_string(hide_password=True)


def _exported(trail: str, path: str | None) -> list[tuple[int, int, str]]:
    """The chain heads for `trail` in a file `audit checkpoint` wrote; refused if a signature fails."""
    if not path:
        return []
    import json

    from .audit_chain import audit_setup
    checkpoints = audit_setup(current_app.extensions["db_engine"]).checkpoints
    try:
        entries = json.loads(open(path).read())["checkpoints"]
    except (ValueError, KeyError, TypeError, OSError):
        raise click.ClickException(f"{path} is not a checkpoint file written by `audit checkpoint`") from None
    wanted = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("trail") not in ("records", "index"):
            raise click.ClickException(f"{path}: an entry is not a checkpoint")
        checked = checkpoints.check_exported(entry)
        if checked is None:
            raise click.ClickException(f"{path}: a checkpoint's signature is wrong (the file was altered, or "
                                       "signed with another audit key)")
        if entry["trail"] == trail:
            wanted.append(checked)
    return wanted


def _report_encrypted_values() -> bool:
    """Print whether every encrypted value opens at its own row (a value swapped between rows does not)."""
    from .db import Base
    from .key_rotation import check_rows
    checked, problems = check_rows(current_app.extensions["db_engine"], Base.metadata)
    if not problems:
        click.echo(f"Encrypted values intact: {checked} opened at their own rows.")
        return True
    click.echo(f"Encrypted values BROKEN: {len(problems)}{'+' if len(problems) >= 100 else ''} of {checked} do not "
               "open at their rows (altered, moved between rows in the database, or under a missing key):", err=True)
    for problem in problems:
        click.echo(f"  {problem}", err=True)
    return False


def _report_verdict(verdict, one: str, many: str) -> None:
    checked, broken, why = verdict
    if broken is not None:
        where = f" at {one} {broken}" if broken else ""
        click.echo(f"Audit trail BROKEN{where}: {why} ({checked} {many} read).", err=True)
        sys.exit(1)
    click.echo(f"Audit trail intact: {checked} {many} verified.")
