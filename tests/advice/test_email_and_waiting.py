"""Email to a local SMTP server (saying only that there is something to look at), waiting times in the
agency's working hours, and requests waiting past the limit flagged to every adviser of the agency."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from guide.advice.policy import AgencyPolicy
from guide.advice.waiting import working_hours_between
from guide.models import AdviceRequest

from tests.advice.conftest import ADVISERS, add_advisers, advice_content, signed_in
from tests.advice.test_asking import ask, text
from tests.conftest import build_app
from tests.decisions.test_walk_journey import walk_to


class Mailbox:
    """What the local SMTP server received: (envelope recipients, message text)."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((sorted(envelope.rcpt_tos), envelope.content.decode("utf8", "replace")))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller.port, mailbox
    controller.stop()


@pytest.fixture
def mailing_app(tmp_path, smtp_server):
    port, _ = smtp_server
    app = build_app(tmp_path, advice_content(tmp_path), SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_TLS="none",
                    SMTP_FROM="guide@northshire.example")
    add_advisers(app)
    return app


def test_emails_say_only_that_there_is_something_to_look_at(mailing_app, smtp_server):
    _, mailbox = smtp_server
    pat = signed_in(mailing_app, "practitioner")
    walk_id = walk_to(pat, [("purpose", "yes")])
    response = ask(pat, mailing_app, walk_id, named="yes", subject_ref="NH-2026-0042",
                   question="Mum said no to sharing the weight charts.")
    request_id = response.location.rsplit("/", 1)[1]
    assert [to for to, _ in mailbox.received] == [[ADVISERS["adviser"]["email"]]]
    ada = signed_in(mailing_app, "adviser")
    ada.get(f"/advice/requests/{request_id}")
    ada.post(f"/advice/requests/{request_id}/messages", {"kind": "advice", "text": "Share the charts: risk of harm."})
    assert [to for to, _ in mailbox.received][-1] == ["pat@example.org"]
    for _, message in mailbox.received:
        assert "Something to look at in the information sharing guide" in message and "/advice" in message
        for secret in ("NH-2026-0042", "Mum said no", "weight charts", "Share the charts", "Pat", "Ada"):
            assert secret not in message


def test_a_refused_step_sends_no_email(mailing_app, smtp_server):
    _, mailbox = smtp_server
    pat = signed_in(mailing_app, "practitioner")
    walk_id = walk_to(pat, [("purpose", "yes")])
    assert ask(pat, mailing_app, walk_id, question="").status_code == 400
    assert mailbox.received == []


def test_without_smtp_settings_the_guide_tells_in_the_header_only(advice_app):
    pat = signed_in(advice_app, "practitioner")
    walk_id = walk_to(pat, [("purpose", "yes")])
    ask(pat, advice_app, walk_id)
    ada = signed_in(advice_app, "adviser")
    header = text(ada.get("/"))
    assert 'hx-get="/advice/count"' in header and "1 waiting" in header
    assert "1 waiting" in text(signed_in(advice_app, "second_adviser").get("/advice/count"))
    assert "nothing waiting" in text(signed_in(advice_app, "colleague").get("/advice/count"))


UTC = timezone.utc
NINE_TO_FIVE = AgencyPolicy(wait_limit_hours=4)


@pytest.mark.parametrize("start, end, hours", [
    # Tuesday 1 December 2026 (GMT: UK time is UTC), within the day
    (datetime(2026, 12, 1, 10, 0, tzinfo=UTC), datetime(2026, 12, 1, 12, 30, tzinfo=UTC), 2.5),
    # asked in the evening, read next morning: only the next morning's hours count
    (datetime(2026, 12, 1, 20, 0, tzinfo=UTC), datetime(2026, 12, 2, 10, 0, tzinfo=UTC), 1.0),
    # Friday afternoon to Monday morning: the weekend does not count
    (datetime(2026, 12, 4, 16, 0, tzinfo=UTC), datetime(2026, 12, 7, 10, 0, tzinfo=UTC), 2.0),
    # Christmas: Thursday 24th 16:00 to Tuesday 29th 10:00 (25th, 28th bank holidays; 26th, 27th weekend)
    (datetime(2026, 12, 24, 16, 0, tzinfo=UTC), datetime(2026, 12, 29, 10, 0, tzinfo=UTC), 2.0),
    # summer time: 08:30 UTC is 09:30 in England
    (datetime(2026, 7, 1, 7, 0, tzinfo=UTC), datetime(2026, 7, 1, 8, 30, tzinfo=UTC), 0.5),
])
def test_waiting_time_counts_the_agencys_working_hours_only(start, end, hours):
    assert working_hours_between(start, end, NINE_TO_FIVE) == pytest.approx(hours)


def test_an_agency_chooses_its_hours():
    early = AgencyPolicy(day_starts=datetime(2026, 1, 1, 8).time(), day_ends=datetime(2026, 1, 1, 16).time())
    start, end = datetime(2026, 12, 1, 7, 0, tzinfo=UTC), datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert working_hours_between(start, end, early) == pytest.approx(1.0)
    assert working_hours_between(start, end, NINE_TO_FIVE) == pytest.approx(0.0)


def test_a_request_waiting_past_the_limit_is_flagged_to_every_adviser_of_the_agency(mailing_app, smtp_server):
    _, mailbox = smtp_server
    pat = signed_in(mailing_app, "practitioner")
    walk_id = walk_to(pat, [("purpose", "yes")])
    request_id = ask(pat, mailing_app, walk_id).location.rsplit("/", 1)[1]
    mailbox.received.clear()
    runner = mailing_app.test_cli_runner()
    assert "0 request(s)" in runner.invoke(args=["advice", "flag-overdue"]).output  # just asked: not overdue
    session = mailing_app.extensions["db_sessions"]()
    # Asked a working week ago: well past four working hours whatever today is.
    session.get(AdviceRequest, request_id).waiting_since = datetime.now(UTC) - timedelta(days=8)
    session.commit()
    session.close()
    assert "1 request(s)" in runner.invoke(args=["advice", "flag-overdue"]).output
    assert mailbox.received[0][0] == sorted([ADVISERS["adviser"]["email"], ADVISERS["second_adviser"]["email"]])
    assert "0 request(s)" in runner.invoke(args=["advice", "flag-overdue"]).output  # once per wait
    for who in ("adviser", "second_adviser"):
        assert "Waiting past the limit" in text(signed_in(mailing_app, who).get("/advice"))
    assert "Waiting past the limit" not in text(signed_in(mailing_app, "other_adviser").get("/advice"))


def test_the_queue_puts_urgent_requests_first(advice_app):
    pat = signed_in(advice_app, "practitioner")
    first = ask(pat, advice_app, walk_to(pat, [("purpose", "yes")])).location.rsplit("/", 1)[1]
    urgent = ask(pat, advice_app, walk_to(pat, [("purpose", "yes")]), urgent="yes").location.rsplit("/", 1)[1]
    page = text(signed_in(advice_app, "adviser").get("/advice"))
    assert page.index(urgent) < page.index(first)
    session = advice_app.extensions["db_sessions"]()
    assert session.scalars(select(AdviceRequest).where(AdviceRequest.urgent.is_(True))).one().id == urgent
    session.close()


def test_the_polled_count_stops_when_signed_out(advice_app):
    response = advice_app.test_client().get("/advice/count")
    assert response.status_code == 286 and response.get_data() == b""  # htmx's "stop polling"


def test_the_task_worker_flags_overdue_requests_every_few_minutes(mailing_app, smtp_server):
    from guide.tasks import flag_overdue_advice

    _, mailbox = smtp_server
    pat = signed_in(mailing_app, "practitioner")
    request_id = ask(pat, mailing_app, walk_to(pat, [("purpose", "yes")])).location.rsplit("/", 1)[1]
    mailbox.received.clear()
    assert flag_overdue_advice.call_local() == 0
    session = mailing_app.extensions["db_sessions"]()
    session.get(AdviceRequest, request_id).waiting_since = datetime.now(UTC) - timedelta(days=8)
    session.commit()
    session.close()
    assert flag_overdue_advice.call_local() == 1
    assert mailbox.received and mailbox.received[0][0] == sorted(
        [ADVISERS["adviser"]["email"], ADVISERS["second_adviser"]["email"]])
    assert flag_overdue_advice.call_local() == 0
