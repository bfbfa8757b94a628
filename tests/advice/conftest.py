"""An agency with advisers: the small flowchart, an advice policy, and advisers in two agencies."""

from __future__ import annotations

import shutil

import pytest

from guide.accounts.users import create_user, find_by_email

from tests.conftest import PASSWORD, SMALL_CONTENT, Client, build_app

POLICY = """\
cite: WTD App3 §4.27
default:
  countersign: {decisions: [share_without_consent], newly_qualified: true}
  working_hours: {start: "09:00", end: "17:00"}
  wait_limit_hours: 4
  urgent_wait_limit_hours: 1
"""

# Besides tests/conftest.py's users (practitioner and colleague of Northshire Health, its records
# officer, a trainer, Southshire Police's records officer): advisers in both agencies.
ADVISERS = {
    "adviser": dict(email="ada@example.org", name="Ada Adviser", role="practitioner", agency="Northshire Health",
                    team="Safeguarding", job_title="Named nurse", adviser_role="Named nurse for safeguarding"),
    "second_adviser": dict(email="ben@example.org", name="Ben Lead", role="practitioner", agency="Northshire Health",
                           team="Safeguarding", job_title="Manager", adviser_role="Line manager"),
    "other_adviser": dict(email="ola@example.org", name="Ola Other", role="practitioner", agency="Southshire Police",
                          team="Public protection", job_title="Sergeant", adviser_role="Designated lead"),
}


def advice_content(tmp_path):
    folder = tmp_path / "content"
    shutil.copytree(SMALL_CONTENT, folder)
    (folder / "advice_policy.yaml").write_text(POLICY)
    return folder


def add_advisers(app):
    session = app.extensions["db_sessions"]()
    for spec in ADVISERS.values():
        spec = dict(spec)
        role = spec.pop("adviser_role")
        create_user(session, password=PASSWORD, **spec).adviser_role = role
    session.commit()
    session.close()


@pytest.fixture
def advice_app(tmp_path):
    app = build_app(tmp_path, advice_content(tmp_path))
    add_advisers(app)
    return app


def user_id(app, email: str) -> int:
    session = app.extensions["db_sessions"]()
    try:
        return find_by_email(session, email).id
    finally:
        session.close()


class AdviceClient(Client):
    """Signs in any of the test users, advisers included."""

    def sign_in(self, who: str):
        from tests.conftest import USERS
        spec = ADVISERS.get(who) or USERS[who]
        self.get("/sign-in")
        response = self.post("/sign-in", {"email": spec["email"], "password": PASSWORD})
        assert response.status_code == 303, response.get_data(as_text=True)
        return self


def signed_in(app, who: str) -> AdviceClient:
    return AdviceClient(app).sign_in(who)
