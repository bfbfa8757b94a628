"""The children's index through HTTP: the access rules, anti-trawling, indicators, audit, subject access."""

import datetime as dt
import re
import shutil
import subprocess
import sys

import pytest
from sqlalchemy import text as sql

from guide.index.audit import verify
from guide.models import IndexAudit, IndexChild, IndexConcern, IndexInvolvement
from guide.accounts.users import find_by_email

from tests.conftest import PASSWORD, REAL_CONTENT, ROOT, Client, build_app

NAMED = "school_community_nurse"  # the category the young person named, for visibility C
CHILD = dict(upn="A000000000001", family_name="Okoro", given_name="Tayo",
             dob=dt.date(2012, 5, 17), gender="Male", address="4 Larch Way, Northtown", postcode="ZZ1 4AB",
             carer_name="Ada Okoro", carer_contact="07700 900123", school="Northtown Academy", gp_practice="Elm Surgery")

# Who looks the child up: (index designation, service category, role, lead professional for the child?)
ROLES = {
    "ordinary": ("user", "youth_work", "practitioner", False),
    "named_service": ("user", NAMED, "practitioner", False),
    "lead_professional": ("user", "therapy", "practitioner", True),
    "cp_social_worker": ("cp_social_worker", "social_care", "practitioner", False),
    "index_manager": ("", "", "index_manager", False),
}
ESSENTIAL = {"lead_professional", "cp_social_worker", "index_manager"}


def content_with(tmp_path, **rules):
    """A copy of the real content with the index policy changed: data, not code."""
    target = tmp_path / "content"
    shutil.copytree(REAL_CONTENT, target)
    policy = target / "index_policy.yaml"
    text = policy.read_text()
    if "visibility" in rules:
        text = re.sub(r"visibility: [ABC]", f"visibility: {rules['visibility']}", text)
    if "lookups_per_hour" in rules:
        text = re.sub(r"lookups_per_hour: \d+", f"lookups_per_hour: {rules['lookups_per_hour']}", text)
    policy.write_text(text)
    return target


def setup_index(app):
    """The child, the users of ROLES, and one entry per category and consent state by its own practitioner."""
    policy = app.extensions["guidance"].index_policy
    session = app.extensions["db_sessions"]()
    from guide.accounts.users import create_user
    users = {}
    for name, (designation, category, role, _lead) in ROLES.items():
        user = create_user(session, email=f"{name}@index.test", name=name, role=role, agency="Northshire",
                           password=PASSWORD, job_title=name)
        user.index_designation, user.service_category = designation, category
        users[name] = user
    child = IndexChild(**CHILD)
    session.add(child)
    session.flush()
    entries = {}
    for category in policy.categories:
        for consent in ("given", "exceptional"):
            name = f"{category}-{consent}"
            entry = IndexInvolvement(child_id=child.id, practitioner_name=name, job_title="Practitioner",
                                     organisation="Org", contact="07700 900000", category=category, consent=consent,
                                     justification="In the child's best interests, exceptionally." if consent == "exceptional" else "",
                                     named_categories=[NAMED])
            session.add(entry)
            entries[name] = category
    lead = users["lead_professional"]
    # Lead professional as granted by the index manager (a practitioner's own tick is only a claim).
    session.add(IndexInvolvement(child_id=child.id, practitioner_id=lead.id, practitioner_name="lead-own-entry",
                                 job_title="Therapist", organisation="Org", contact="x", category="therapy",
                                 lead_professional=True, consent="given", lead_granted_by=users["index_manager"].id,
                                 lead_granted_at=dt.datetime.now(dt.timezone.utc)))
    session.commit()
    ids = {name: user.id for name, user in users.items()}
    session.close()
    return ids, entries


def designate(app, email, designation):
    """The index manager's designation of a user, as the users page or `users designate` gives it."""
    session = app.extensions["db_sessions"]()
    find_by_email(session, email).index_designation = designation
    session.commit()
    session.close()


def signed_in(app, name):
    client = Client(app)
    client.get("/sign-in")
    response = client.post("/sign-in", {"email": f"{name}@index.test", "password": PASSWORD})
    assert response.status_code == 303
    return client


def look_up(client, **overrides):
    client.get("/index")
    form = {"given_name": CHILD["given_name"], "family_name": CHILD["family_name"], "dob-day": "17", "dob-month": "5",
            "dob-year": "2012", "reason": "assessment", "reason_text": "Assessing his needs this week.", **overrides}
    return client.post("/index", form)


def shown_entries(client):
    response = look_up(client)
    assert response.status_code == 303, response.get_data(as_text=True)
    page = client.get(response.location).get_data(as_text=True)
    return {name for name in re.findall(r"<td class=\"govuk-table__cell\">([a-z_]+-(?:given|exceptional)|lead-own-entry),", page)}


@pytest.mark.parametrize("visibility", ["A", "B", "C"])
def test_the_access_matrix(tmp_path, visibility):
    """Every role × every service category × visibility A/B/C × consent state, through HTTP."""
    app = build_app(tmp_path, content_with(tmp_path, visibility=visibility))
    _ids, entries = setup_index(app)
    for role in ROLES:
        shown = shown_entries(signed_in(app, role))
        for name in entries:
            if visibility == "A":
                expected = True
            elif visibility == "B":
                expected = role in ESSENTIAL
            else:
                expected = role in ESSENTIAL or role == "named_service"
            assert (name in shown) == expected, (visibility, role, name)
        assert ("lead-own-entry" in shown) == (visibility == "A" or role in ESSENTIAL or role == "lead_professional"
                                              or (visibility == "C" and False)), (visibility, role)


def test_the_real_policy_hides_sexual_health_from_ordinary_users_but_not_school_nursing(tmp_path):
    app = build_app(tmp_path, REAL_CONTENT)
    setup_index(app)
    ordinary = shown_entries(signed_in(app, "ordinary"))
    assert "school_community_nurse-given" in ordinary        # A
    assert "sexual_health-given" not in ordinary              # B
    assert "mental_health-exceptional" not in ordinary        # C, not named for youth work
    named = shown_entries(signed_in(app, "named_service"))
    assert "mental_health-exceptional" in named               # C: the young person named school nursing
    assert "sexual_health-given" not in named                 # B stays essential only
    assert "sexual_health-given" in shown_entries(signed_in(app, "cp_social_worker"))


def test_consent_refused_means_no_entry(tmp_path):
    app = build_app(tmp_path, REAL_CONTENT)
    ids, _ = setup_index(app)
    client = signed_in(app, "ordinary")
    location = look_up(client).location
    grant = re.search(r"grant=(\d+)", location).group(1)
    client.get(location)
    for form in ({"category": "youth_work"}, {"category": "youth_work", "consent": "exceptional", "justification": "short"}):
        response = client.post("/index/children/1/involvement", {"grant": grant, **form})
        assert response.status_code == 400
    session = app.extensions["db_sessions"]()
    assert session.query(IndexInvolvement).filter_by(practitioner_id=ids["ordinary"]).count() == 0
    session.close()


@pytest.fixture
def index_app(tmp_path):
    app = build_app(tmp_path, content_with(tmp_path, lookups_per_hour=6))
    setup_index(app)
    return app


def refusals(app):
    session = app.extensions["db_sessions"]()
    try:
        return session.query(IndexAudit).filter_by(action="refused").count()
    finally:
        session.close()


@pytest.mark.parametrize("overrides, message", [
    ({"family_name": "Ok%"}, "full first name, last name and date of birth"),
    ({"family_name": "O*"}, "full first name, last name and date of birth"),
    ({"given_name": "T"}, "full first name, last name and date of birth"),
    ({"dob-day": ""}, "full first name, last name and date of birth"),
    ({"reason": ""}, "Choose the reason"),
    ({"reason_text": "because"}, "Say in your own words"),
    ({"upn": "A0000*", "family_name": "", "given_name": ""}, "unique number exactly"),
])
def test_trawling_and_missing_reasons_are_refused_and_audited(index_app, overrides, message):
    client = signed_in(index_app, "ordinary")
    before = refusals(index_app)
    response = look_up(client, **overrides)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert "Okoro" not in response.get_data(as_text=True).split("<form")[0]
    assert refusals(index_app) == before + 1


def test_look_ups_beyond_the_rate_limit_are_refused(index_app):
    client = signed_in(index_app, "ordinary")
    for _ in range(6):
        assert look_up(client).status_code == 303
    response = look_up(client)
    assert response.status_code == 429 and "too many look-ups" in response.get_data(as_text=True)


def test_a_forged_request_for_a_record_is_refused_without_saying_if_it_exists(index_app):
    client = signed_in(index_app, "ordinary")
    no_grant = client.get("/index/children/1")
    missing = client.get("/index/children/999")
    assert no_grant.status_code == missing.status_code == 403
    strip = lambda r: re.sub(r'nonce(-|=")[^"\']+|value="[^"]+"|data-(csrf-token|seconds-left)="[^"]+"', "", r.get_data(as_text=True))  # noqa: E731  (tokens and the session clock differ per request)
    assert strip(no_grant) == strip(missing)
    # Someone else's look-up does not open the record either.
    other = signed_in(index_app, "named_service")
    grant = re.search(r"grant=(\d+)", look_up(other).location).group(1)
    assert client.get(f"/index/children/1?grant={grant}").status_code == 403
    before = refusals(index_app)
    assert client.post("/index/children/1/concerns", {"grant": grant, "level": "action"}).status_code == 403
    assert refusals(index_app) == before + 1


def test_users_who_are_not_designated_cannot_use_the_index(index_app):
    client = Client(index_app).sign_in("practitioner")
    assert client.get("/index").status_code == 403
    assert client.post("/index", {"family_name": "Okoro"}).status_code == 403


def open_record(client):
    location = look_up(client).location
    client.get(location)
    return re.search(r"grant=(\d+)", location).group(1)


def test_only_the_practitioner_who_raised_a_concern_can_close_it(index_app):
    lead = signed_in(index_app, "lead_professional")
    grant = open_record(lead)
    assert lead.post("/index/children/1/concerns", {"grant": grant, "level": "information"}).status_code == 303
    session = index_app.extensions["db_sessions"]()
    concern_id = session.query(IndexConcern).one().id
    session.close()
    social = signed_in(index_app, "cp_social_worker")
    other_grant = open_record(social)
    assert social.post(f"/index/children/1/concerns/{concern_id}/close", {"grant": other_grant}).status_code == 403
    assert lead.post(f"/index/children/1/concerns/{concern_id}/close", {"grant": grant}).status_code == 303
    page = lead.get(f"/index/children/1?grant={grant}").get_data(as_text=True)
    assert "Information (closed)" in page
    # After the configured period a closed indicator is no longer shown to practitioners.
    session = index_app.extensions["db_sessions"]()
    session.get(IndexConcern, concern_id).closed_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=91)
    session.commit()
    session.close()
    assert "Information (closed)" not in lead.get(f"/index/children/1?grant={grant}").get_data(as_text=True)


def test_a_concern_needs_the_practitioners_own_entry_and_records_no_reason(index_app):
    client = signed_in(index_app, "ordinary")
    grant = open_record(client)
    assert client.post("/index/children/1/concerns", {"grant": grant, "level": "action"}).status_code == 400
    assert not {c.name for c in IndexConcern.__table__.columns} & {"reason", "notes", "note", "description", "details"}
    assert not {c.name for c in IndexChild.__table__.columns} & {"notes", "case_notes", "assessment", "reason"}


def test_only_the_index_manager_sees_the_full_history(index_app):
    lead = signed_in(index_app, "lead_professional")
    grant = open_record(lead)
    lead.post("/index/children/1/concerns", {"grant": grant, "level": "action"})
    assert "Full history" not in lead.get(f"/index/children/1?grant={grant}").get_data(as_text=True)
    manager = signed_in(index_app, "index_manager")
    manager_grant = open_record(manager)
    page = manager.get(f"/index/children/1?grant={manager_grant}").get_data(as_text=True)
    assert "Full history" in page and "raised" in page


def test_practitioners_are_prompted_to_review_old_entries(index_app):
    lead = signed_in(index_app, "lead_professional")
    assert "need reviewing" not in lead.get("/index").get_data(as_text=True)
    session = index_app.extensions["db_sessions"]()
    lead_id = find_by_email(session, "lead_professional@index.test").id
    entry = session.query(IndexInvolvement).filter_by(practitioner_id=lead_id).one()  # names are encrypted: not in SQL
    assert entry.practitioner_name == "lead-own-entry"
    entry.reviewed_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=200)
    session.commit()
    session.close()
    assert "1 of your entries needs reviewing" in lead.get("/index").get_data(as_text=True)


def test_the_manager_patrols_unusual_look_ups(index_app):
    client = signed_in(index_app, "ordinary")
    for _ in range(5):
        look_up(client, reason_text="Same words every time.")
    manager = signed_in(index_app, "index_manager")
    page = manager.get("/index/patrol").get_data(as_text=True)
    assert "same words every time." in page and "5 times" in page
    assert "Every entry is intact" in page


def test_subject_access_lists_everything_and_everyone_who_looked(index_app):
    signed_in(index_app, "ordinary") and look_up(signed_in(index_app, "ordinary"))
    designate(index_app, "rec@example.org", "subject_access")  # subject access is for designated people only
    officer = Client(index_app).sign_in("records")
    officer.get("/index/subject-access")
    page = officer.post("/index/subject-access", {"upn": CHILD["upn"], "reason_text": "SAR-2026-001"}).get_data(as_text=True)
    assert "sexual_health-given" in page and "lead-own-entry" in page  # everything held, whatever its visibility
    assert "ordinary, Northshire" in page and "Looked up" in page    # who accessed it, in words


def test_a_tampered_audit_entry_is_found(index_app):
    look_up(signed_in(index_app, "ordinary"))
    engine = index_app.extensions["db_engine"]
    assert verify(engine)[1] is None
    with engine.begin() as connection:
        target = connection.execute(sql("SELECT id FROM index_audit ORDER BY id LIMIT 1 OFFSET 0")).scalar()
        connection.execute(sql("UPDATE index_audit SET reason_text = 'nothing to see' WHERE id = :id"), {"id": target})
    checked, broken, why = verify(engine)
    assert broken == target and "altered" in why
    env = {"DATABASE_URL": str(engine.url), "SECRET_KEY": "x", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "guide", "index", "verify-audit"],
                            capture_output=True, text=True, cwd=ROOT, env=env)
    assert result.returncode == 1 and f"BROKEN at entry {target}" in result.stderr


def test_a_removed_audit_entry_is_found(index_app):
    look_up(signed_in(index_app, "ordinary"))
    look_up(signed_in(index_app, "ordinary"))
    engine = index_app.extensions["db_engine"]
    with engine.begin() as connection:
        target = connection.execute(sql("SELECT id FROM index_audit ORDER BY id LIMIT 1 OFFSET 0")).scalar()
        connection.execute(sql("DELETE FROM index_audit WHERE id = :id"), {"id": target})
    assert "removed" in verify(engine)[2]


def test_an_entry_given_another_entrys_encrypted_words_is_found_and_patrol_still_reports(index_app):
    """A valid ciphertext moved from another entry no longer decrypts (each value is bound to its row:
    issue 15 item 9) and is found; so is one altered in place, and the patrol page still shows the check."""
    client = signed_in(index_app, "ordinary")
    look_up(client, reason_text="First look-up, first words.")
    look_up(client, reason_text="Second look-up, other words.")
    engine = index_app.extensions["db_engine"]
    with engine.begin() as connection:
        first, second = connection.execute(sql("SELECT id, reason_text FROM index_audit WHERE action = 'lookup' "
                                               "ORDER BY id")).all()
        assert first.reason_text.startswith("g2.") and b"words" not in first.reason_text.encode()
        connection.execute(sql("UPDATE index_audit SET reason_text = :r WHERE id = :id"),
                           {"r": first.reason_text, "id": second.id})
    checked, broken, why = verify(engine)
    assert broken == second.id and "does not decrypt" in why
    with engine.begin() as connection:
        token = first.reason_text
        connection.execute(sql("UPDATE index_audit SET reason_text = :r WHERE id = :id"),
                           {"r": token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB"), "id": first.id})
    checked, broken, why = verify(engine)
    assert broken == first.id and "does not decrypt" in why and "altered" in why
    page = signed_in(index_app, "index_manager").get("/index/patrol")
    assert page.status_code == 200 and f"Entry {first.id} fails the check" in page.get_data(as_text=True)


SECRET_CHILD = dict(upn="A000000000042", family_name="Okonkwo-Featherstonehaugh", given_name="Tayowunmi",
                    dob=dt.date(2011, 3, 9), gender="Female", address="17 Wisteria Terrace, Northtown",
                    postcode="ZZ7 3QX", carer_name="Adaeze Okonkwo-Featherstonehaugh", carer_contact="07700 900777",
                    school="Quillbrook Primary Academy", gp_practice="Fennimore Medical Centre",
                    health_visitor="Perpetua Longbottom, Northtown Health Visiting Team")
SECRET_PRACTITIONER = dict(practitioner_name="Bartholomew Quigglesworth", job_title="Speech and language therapist",
                           organisation="Quillbrook Child Development Centre",
                           contact="bartholomew.quigglesworth@therapy.example")
JUSTIFICATION = "Her uncle Maximilian threatens the family: recorded without consent, exceptionally."


def test_a_copied_database_file_reveals_no_child_or_practitioner(tmp_path):
    """After entries, look-ups (by number, by names and date of birth, with a postcode) and changes, the
    SQLite file and its write-ahead log hold none of the child's or the practitioners' details."""
    import os
    from pathlib import Path
    if os.environ.get("TEST_POSTGRES_URL"):
        pytest.skip("reads the SQLite file itself")
    app = build_app(tmp_path, REAL_CONTENT)
    setup_index(app)
    session = app.extensions["db_sessions"]()
    child = IndexChild(**SECRET_CHILD)
    # Another child with the same names and date of birth elsewhere: the postcode tells them apart.
    twin = IndexChild(**{**SECRET_CHILD, "upn": "A000000000043", "postcode": "ZZ8 1AA",
                         "address": "2 Gallowglass Mews, Southbury"})
    session.add_all([child, twin])
    session.flush()
    session.add(IndexInvolvement(child_id=child.id, category="therapy", consent="given", **SECRET_PRACTITIONER))
    session.commit()
    child_id, twin_id = child.id, twin.id
    session.close()

    by_names = {"family_name": SECRET_CHILD["family_name"].upper(), "given_name": " tayowunmi ",
                "dob-day": "9", "dob-month": "3", "dob-year": "2011"}
    ordinary = signed_in(app, "ordinary")
    several = look_up(ordinary, **by_names)
    assert several.status_code == 400 and "More than one child matches" in several.get_data(as_text=True)
    found = look_up(ordinary, **by_names, postcode="zz73qx")
    assert found.status_code == 303 and f"/index/children/{child_id}?" in found.location
    assert f"/index/children/{twin_id}?" in look_up(ordinary, **by_names, postcode="ZZ8 1AA").location
    assert look_up(ordinary, **by_names, postcode="ZZ9 9ZZ").status_code == 404
    grant = re.search(r"grant=(\d+)", found.location).group(1)
    page = ordinary.get(found.location).get_data(as_text=True)
    assert "Tayowunmi Okonkwo-Featherstonehaugh" in page and "9 March 2011" in page and "Bartholomew Quigglesworth" in page
    assert ordinary.post(f"/index/children/{child_id}/involvement",
                         {"grant": grant, "category": "youth_work", "consent": "exceptional",
                          "justification": JUSTIFICATION}).status_code == 303
    assert JUSTIFICATION in ordinary.get(found.location).get_data(as_text=True)

    manager = signed_in(app, "index_manager")
    by_number = look_up(manager, upn=" a0000 0000 0042", family_name="", given_name="")
    assert by_number.status_code == 303 and f"/index/children/{child_id}?" in by_number.location
    history = manager.get(by_number.location).get_data(as_text=True)
    assert "Full history" in history and "exceptional" in history
    designate(app, "rec@example.org", "subject_access")
    officer = Client(app).sign_in("records")
    officer.get("/index/subject-access")
    report = officer.post("/index/subject-access", {"upn": SECRET_CHILD["upn"], "reason_text": "SAR-2026-042"})
    assert "Okonkwo-Featherstonehaugh" in report.get_data(as_text=True)
    assert verify(app.extensions["db_engine"])[1] is None

    path = Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))
    copied = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    assert b"Northshire" in copied and b"youth_work" in copied  # agencies and categories stay clear: the right file
    secrets = [*(value for key, value in SECRET_CHILD.items() if key not in ("gender",)),
               "2 Gallowglass Mews", "ZZ8 1AA", "Tayowunmi", "Featherstonehaugh", "A000000000043", "A000000000001",
               *SECRET_PRACTITIONER.values(), JUSTIFICATION, "Maximilian", "Assessing his needs this week",
               "ordinary@index.test", "lead-own-entry", "sexual_health-given", "07700 900000", "4 Larch Way"]
    for secret in secrets:
        assert str(secret).encode() not in copied, f"{secret!r} is readable in the database file"


def test_contacts_from_the_index_go_into_the_decision_record(index_app):
    client = signed_in(index_app, "cp_social_worker")
    walk_id = client.start("confidentiality")
    for question, value in [("purpose", "no")]:
        client.answer(walk_id, question, value)
    form = client.get(f"/walks/{walk_id}/outcome").get_data(as_text=True)
    assert f"/index?walk={walk_id}" in form
    location = look_up(client, walk=walk_id).location
    client.get(location)
    grant = re.search(r"grant=(\d+)", location).group(1)
    response = client.post("/index/children/1/to-record", {"grant": grant, "walk": walk_id})
    assert response.location.endswith(f"/walks/{walk_id}/outcome#record")
    form = client.get(response.location).get_data(as_text=True)
    assert "sexual_health-given, Practitioner, Org" in form  # an essential user sees, and copies, every entry


def test_the_index_manager_grants_and_withdraws_access(index_app):
    manager = signed_in(index_app, "index_manager")
    page = manager.get("/index/users").get_data(as_text=True)
    session = index_app.extensions["db_sessions"]()
    colleague = find_by_email(session, "col@example.org")
    session.close()
    assert "col@example.org" in page
    assert Client(index_app).sign_in("colleague").get("/index").status_code == 403
    assert manager.post("/index/users", {"user": colleague.id, "designation": "user", "service_category": "youth_work"}).status_code == 303
    assert Client(index_app).sign_in("colleague").get("/index").status_code == 200
    assert manager.post("/index/users", {"user": colleague.id, "designation": "superuser"}).status_code == 400
    session = index_app.extensions["db_sessions"]()
    assert session.query(IndexAudit).filter_by(action="designate").count() == 1
    session.close()
    assert signed_in(index_app, "ordinary").get("/index/users").status_code == 403


LEGACY_GENESIS = "0" * 64


def legacy_entry_hash(prev_hash, at, user_id, action, child_id, reason, reason_text, detail) -> str:
    """How index audit entries were chained before 0010: SHA-256, no key."""
    import hashlib
    import json
    body = json.dumps([prev_hash, at.strftime("%Y-%m-%dT%H:%M:%S.%f"), user_id, action, child_id, reason, reason_text,
                       detail], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def test_the_migration_encrypts_the_index_written_before_it_and_back(tmp_path):
    """0008 on an index written in clear: encrypted in place, found by its blind indexes, the audit chain
    intact (it covers the plaintext); going back to 0007 gives the clear rows and name keys again."""
    import json
    import os
    import sqlite3

    from alembic import command

    from guide import create_app
    from guide.crypto import KeyRing, new_key
    from guide.db import alembic_config, migrate
    from guide.index.service import IndexService, LookupRequest
    from guide.accounts.users import create_user
    if os.environ.get("TEST_POSTGRES_URL"):
        pytest.skip("writes the rows from before the migration with SQLite")
    path = tmp_path / "old.sqlite3"
    url = f"sqlite:///{path}"
    command.upgrade(alembic_config(url), "0007")
    child = SECRET_CHILD
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO index_children (id, upn, family_name, given_name, family_key, given_key, dob, gender, address, "
            "postcode, carer_name, carer_contact, school, gp_practice, health_visitor, created_at) VALUES "
            "(1, ?, ?, ?, 'okonkwofeatherstonehaugh', 'tayowunmi', ?, ?, ?, ?, ?, ?, ?, ?, ?, '2026-01-01 08:00:00.000000')",
            (child["upn"], child["family_name"], child["given_name"], child["dob"].isoformat(), child["gender"],
             child["address"], child["postcode"], child["carer_name"], child["carer_contact"], child["school"],
             child["gp_practice"], child["health_visitor"]))
        connection.execute(
            "INSERT INTO index_involvements (id, child_id, practitioner_id, practitioner_name, job_title, organisation, "
            "contact, category, lead_professional, consent, justification, named_categories, recorded_at, reviewed_at) "
            "VALUES (1, 1, NULL, ?, ?, ?, ?, 'therapy', 0, 'exceptional', ?, '[]', '2026-01-01 09:00:00.000000', "
            "'2026-01-01 09:00:00.000000')",
            (*SECRET_PRACTITIONER.values(), JUSTIFICATION))
        connection.execute("INSERT INTO index_changes (id, child_id, at, user_id, change) VALUES (1, 1, "
                           "'2026-01-01 09:00:00.000000', NULL, ?)",
                           (json.dumps({"entity": "involvement", "id": 1, "action": "recorded", "note": "Maximilian"}),))
        prev = LEGACY_GENESIS
        for entry_id, words in ((1, "Looking up Tayowunmi for her assessment"), (2, "Again for Tayowunmi's review")):
            at = dt.datetime(2026, 1, 1, 9, entry_id)
            detail = {"criteria": {"upn": child["upn"], "family_name": child["family_name"]}, "found": "one"}
            digest = legacy_entry_hash(prev, at, None, "lookup", 1, "assessment", words, detail)
            connection.execute("INSERT INTO index_audit (id, at, user_id, action, child_id, reason, reason_text, detail, "
                               "prev_hash, hash) VALUES (?, ?, NULL, 'lookup', 1, 'assessment', ?, ?, ?, ?)",
                               (entry_id, at.strftime("%Y-%m-%d %H:%M:%S.%f"), words, json.dumps(detail), prev, digest))
            prev = digest
    with pytest.raises(RuntimeError, match="encryption keys"):
        migrate(url)  # rows to encrypt and no keys: refused, nothing half done
    key = new_key()
    keyring = KeyRing([key])
    migrate(url, keyring)

    stored = path.read_bytes() + (path.with_name(path.name + "-wal").read_bytes()
                                   if path.with_name(path.name + "-wal").exists() else b"")
    for secret in [*(v for k, v in child.items() if k != "gender"), *SECRET_PRACTITIONER.values(), JUSTIFICATION,
                   "Maximilian", "Tayowunmi", "Featherstonehaugh", "okonkwofeatherstonehaugh"]:
        assert str(secret).encode() not in stored, f"{secret!r} is readable after the migration"

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "s", "CONTENT_DIR": REAL_CONTENT, "TESTING": True,
                      "ENCRYPTION_KEYS": key})
    engine = app.extensions["db_engine"]
    # The entries chained before 0010 are not keyed until `audit rekey` checks and keys them (once).
    assert "not keyed yet" in verify(engine)[2]
    assert "2 entries keyed" in app.test_cli_runner().invoke(args=["audit", "rekey"]).output
    assert verify(engine) == (3, None, "")  # and the record of the re-keying
    session = app.extensions["db_sessions"]()
    user = create_user(session, email="looker@index.test", name="Looker", role="practitioner", agency="Northshire",
                       password=PASSWORD)
    user.index_designation = "user"
    session.commit()
    service = IndexService(session, engine, app.extensions["guidance"].index_policy, user)
    reason = dict(reason="assessment", reason_text="Checking the migrated record.")
    found, _ = service.lookup(LookupRequest(upn=child["upn"], **reason))
    assert found is not None and found.given_name == "Tayowunmi" and found.dob == child["dob"]
    found, _ = service.lookup(LookupRequest(family_name="okonkwo featherstonehaugh", given_name="TAYOWUNMI",
                                            dob=child["dob"], postcode="zz7 3qx", **reason))
    assert found is not None and found.id == 1
    involvement = session.get(IndexInvolvement, 1)
    assert involvement.practitioner_name == SECRET_PRACTITIONER["practitioner_name"]
    assert involvement.justification == JUSTIFICATION
    session.close()
    assert verify(engine)[1] is None
    engine.dispose()

    command.downgrade(alembic_config(url, keyring), "0007")
    with sqlite3.connect(path) as connection:
        row = connection.execute("SELECT upn, family_name, family_key, given_key, dob, postcode FROM index_children "
                                 "WHERE id = 1").fetchone()
        assert row == (child["upn"], child["family_name"], "okonkwofeatherstonehaugh", "tayowunmi", "2011-03-09",
                       child["postcode"])
        assert json.loads(connection.execute("SELECT change FROM index_changes").fetchone()[0])["note"] == "Maximilian"
        words = connection.execute("SELECT reason_text FROM index_audit ORDER BY id").fetchall()
        assert words[0][0] == "Looking up Tayowunmi for her assessment" and len(words) == 5
    migrate(url, keyring)  # and forward again


def test_after_key_rotation_children_are_found_and_the_audit_chain_holds(tmp_path):
    """`keys rotate` re-encrypts the index and recomputes its blind indexes (from the columns' info):
    with only the new key, look-ups by number and by names still find the child; the chain still verifies."""
    from guide import create_app
    from guide.crypto import new_key
    old, new = new_key(), new_key()
    app = build_app(tmp_path, REAL_CONTENT, ENCRYPTION_KEYS=old)
    setup_index(app)
    assert look_up(signed_in(app, "ordinary")).status_code == 303
    url = app.config["DATABASE_URL"]
    both = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret", "CONTENT_DIR": REAL_CONTENT, "TESTING": True,
                       "ENCRYPTION_KEYS": f"{new},{old}"})
    assert look_up(signed_in(both, "lead_professional")).status_code == 303  # mid-rotation: old keys still match
    result = both.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0 and "index_children" in result.output, result.output
    only_new = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret", "CONTENT_DIR": REAL_CONTENT,
                           "TESTING": True, "ENCRYPTION_KEYS": new})
    client = signed_in(only_new, "cp_social_worker")
    assert look_up(client).status_code == 303
    by_number = look_up(client, upn=CHILD["upn"], family_name="", given_name="")
    assert by_number.status_code == 303
    assert "Okoro" in client.get(by_number.location).get_data(as_text=True)
    assert verify(only_new.extensions["db_engine"])[1] is None
