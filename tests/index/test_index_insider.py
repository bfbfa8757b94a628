"""An insider with an ordinary account attacks the children's index through HTTP: each attack is
refused and changes nothing it should not."""

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from guide.models import IndexAudit, IndexChild, IndexInvolvement

from tests.conftest import REAL_CONTENT, Client, build_app
from tests.index.test_index import CHILD, content_with, designate, look_up, open_record, setup_index, signed_in


def audit_actions(app) -> Counter:
    session = app.extensions["db_sessions"]()
    try:
        return Counter(session.scalars(select(IndexAudit.action)))
    finally:
        session.close()


def involvements(app) -> list[tuple]:
    session = app.extensions["db_sessions"]()
    try:
        return [(i.id, i.practitioner_id, i.lead_professional, i.lead_granted_by)
                for i in session.scalars(select(IndexInvolvement).order_by(IndexInvolvement.id))]
    finally:
        session.close()


@pytest.fixture
def index_app(tmp_path):
    app = build_app(tmp_path, REAL_CONTENT)
    setup_index(app)
    return app


# --- 15.1: essential status is granted, never self-asserted ------------------------------------------

def test_ticking_lead_professional_unlocks_no_sensitive_entry_until_an_entitled_person_grants_it(index_app):
    ordinary = signed_in(index_app, "ordinary")
    grant = open_record(ordinary)
    assert ordinary.post("/index/children/1/involvement", {"grant": grant, "category": "youth_work", "consent": "given",
                                                          "lead": "yes"}).status_code == 303
    page = ordinary.get(f"/index/children/1?grant={grant}").get_data(as_text=True)
    assert "sexual_health-given" not in page          # visibility B: still hidden
    assert "not confirmed" in page

    # The practitioner cannot grant it to themselves either: refused, audited, nothing changed.
    mine = next(i for i in involvements(index_app) if i[1] is not None and i[2] and i[3] is None)
    before = involvements(index_app)
    response = ordinary.post(f"/index/children/1/involvements/{mine[0]}/lead", {"grant": grant, "lead": "grant"})
    assert response.status_code == 403
    assert involvements(index_app) == before
    assert "sexual_health-given" not in ordinary.get(f"/index/children/1?grant={grant}").get_data(as_text=True)

    # A child protection social worker grants it: now the practitioner is essential, and patrol shows who did.
    social = signed_in(index_app, "cp_social_worker")
    social_grant = open_record(social)
    assert social.post(f"/index/children/1/involvements/{mine[0]}/lead",
                       {"grant": social_grant, "lead": "grant"}).status_code == 303
    assert "sexual_health-given" in ordinary.get(f"/index/children/1?grant={grant}").get_data(as_text=True)
    patrol = signed_in(index_app, "index_manager").get("/index/patrol").get_data(as_text=True)
    assert re.search(r"cp_social_worker \(Northshire\) made ordinary \(Northshire\) lead professional for child 1", patrol)
    # And withdraws it: hidden again.
    assert social.post(f"/index/children/1/involvements/{mine[0]}/lead",
                       {"grant": social_grant, "lead": "withdraw"}).status_code == 303
    assert "sexual_health-given" not in ordinary.get(f"/index/children/1?grant={grant}").get_data(as_text=True)
    assert "withdrew ordinary (Northshire) lead professional status" in \
        signed_in(index_app, "index_manager").get("/index/patrol").get_data(as_text=True)


# --- 15.2: subject access is not a trawl -------------------------------------------------------------

def sar(client, upn, reference="SAR-2026-001"):
    client.get("/index/subject-access")
    return client.post("/index/subject-access", {"upn": upn, "reason_text": reference})


def without_tokens(response) -> str:
    return re.sub(r'nonce(-|=")[^"\']+|value="[^"]+"|data-(csrf-token|seconds-left)="[^"]+"', "", response.get_data(as_text=True))


def test_an_officer_not_designated_gets_the_same_refusal_for_a_known_and_an_unknown_child(index_app):
    officer = Client(index_app).sign_in("other_records")
    assert officer.get("/index/subject-access").status_code == 403
    before = audit_actions(index_app)
    known, unknown = sar(officer, CHILD["upn"]), sar(officer, "A999999999999")
    assert known.status_code == unknown.status_code == 403
    assert without_tokens(known) == without_tokens(unknown)
    assert "Okoro" not in known.get_data(as_text=True)
    after = audit_actions(index_app)
    assert after["subject_access"] == before["subject_access"] and after["refused"] == before["refused"] + 2


def test_a_designated_officer_needs_a_reference_is_rate_limited_and_patrolled(tmp_path):
    app = build_app(tmp_path, content_with(tmp_path))
    setup_index(app)
    designate(app, "orec@example.org", "subject_access")
    officer = Client(app).sign_in("other_records")
    for reference in ("", "x", "SAR 2026 001", "<script>"):
        response = sar(officer, CHILD["upn"], reference)
        assert response.status_code == 400 and "reference" in response.get_data(as_text=True)
        assert "Okoro" not in response.get_data(as_text=True)
    known, unknown = sar(officer, CHILD["upn"]), sar(officer, "A999999999999")
    assert known.status_code == unknown.status_code == 200
    assert "Okoro" in known.get_data(as_text=True) and "Nothing held for A999999999999" in unknown.get_data(as_text=True)
    limit = app.extensions["guidance"].index_policy.rules["subject_access_per_day"]
    statuses = Counter(sar(officer, f"A{n:012d}").status_code for n in range(limit + 5))
    assert statuses == Counter({200: limit - 2, 429: 7})
    assert audit_actions(app)["subject_access"] == limit
    # A designated subject-access officer cannot look children up.
    assert officer.get("/index").status_code == 403
    patrol = signed_in(app, "index_manager").get("/index/patrol").get_data(as_text=True)
    assert f"Omar Records (Southshire Police): {limit} reports" in patrol


# --- 15.5: the look-up limit cannot be raced ---------------------------------------------------------

def test_parallel_look_ups_cannot_slip_past_the_hourly_limit(tmp_path):
    app = build_app(tmp_path, content_with(tmp_path, lookups_per_hour=30))
    setup_index(app)
    clients = [signed_in(app, "ordinary") for _ in range(80)]
    for client in clients:
        client.get("/index")
    form = {"given_name": CHILD["given_name"], "family_name": CHILD["family_name"], "dob-day": "17", "dob-month": "5",
            "dob-year": "2012", "reason": "assessment", "reason_text": "Assessing his needs this week."}

    def attempt(client):
        return client.post("/index", dict(form, csrf_token=client.token)).status_code

    # Six at a time (the app's connection pool is the limit on parallel requests in one process).
    with ThreadPoolExecutor(6) as pool:
        statuses = Counter(pool.map(attempt, clients))
    assert statuses == Counter({303: 30, 429: 50})
    session = app.extensions["db_sessions"]()
    assert session.scalar(select(func.count()).select_from(IndexAudit).where(IndexAudit.action == "lookup")) == 30
    session.close()


# --- 15.10: the hidden-entry notice is the same for every child --------------------------------------

def test_the_notice_about_hidden_entries_is_the_same_whether_or_not_anything_is_hidden(index_app):
    session = index_app.extensions["db_sessions"]()
    session.add(IndexChild(**{**CHILD, "upn": "A000000000009", "given_name": "Kemi", "postcode": "ZZ1 9ZZ"}))
    session.commit()
    session.close()
    ordinary = signed_in(index_app, "ordinary")
    with_hidden = ordinary.get(look_up(ordinary).location).get_data(as_text=True)
    nothing_hidden = ordinary.get(look_up(ordinary, given_name="Kemi").location).get_data(as_text=True)
    notice = lambda page: re.findall(r"<p class=\"govuk-body-s\">(.*?)</p>", page)  # noqa: E731
    assert notice(with_hidden) == notice(nothing_hidden) != []


# --- 15.17: index contacts stay out of the session cookie --------------------------------------------

def test_contacts_copied_into_a_record_never_travel_in_the_session_cookie(index_app):
    import base64
    import zlib
    client = signed_in(index_app, "cp_social_worker")
    walk_id = client.start("confidentiality")
    client.answer(walk_id, "purpose", "no")
    location = look_up(client, walk=walk_id).location
    client.get(location)
    grant = re.search(r"grant=(\d+)", location).group(1)
    response = client.post("/index/children/1/to-record", {"grant": grant, "walk": walk_id})
    assert response.status_code == 303
    cookie = client.http.get_cookie("session").value
    payload = cookie.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    readable = (zlib.decompress(raw) if cookie.startswith(".") else raw).decode()
    assert "07700 900000" not in readable and "sexual_health-given" not in readable
    assert "07700 900000" in client.get(f"/walks/{walk_id}/outcome").get_data(as_text=True)  # still offered in the form
    # Someone else's walk cannot be given contacts.
    other = signed_in(index_app, "index_manager")
    other_grant = open_record(other)
    assert other.post("/index/children/1/to-record", {"grant": other_grant, "walk": walk_id}).status_code == 404
