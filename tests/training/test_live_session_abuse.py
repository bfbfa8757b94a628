"""Live sessions hold against scripted participants (issue 15.15): no second vote by joining again,
scripted joins cannot lock real participants out, and /join is rate-limited."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import update

from guide.models import Participant, Vote, utcnow
from guide.training import live_sessions
from guide.training.service import MAX_PARTICIPANTS, PRESENT_WITHIN

from tests.conftest import Client, count_rows
from tests.training.test_training_sessions import Room, text


def test_joining_again_gives_no_second_vote(real_app):
    room = Room(real_app)
    ann = room.participant("Ann")
    room.move("start")
    assert room.vote(ann, "not_sure").status_code == 303
    # The same browser joining again is the same participant: still one vote.
    ann.get(f"/join?code={room.code}")
    assert ann.post("/join", {"code": room.code, "name": "Ann again"}).status_code == 303
    assert room.vote(ann, "yes").status_code == 409
    # A new browser (cookies cleared) is a new participant, who votes from the next point on.
    again = room.participant("Ann")
    refused = room.vote(again, "yes")
    assert refused.status_code == 409 and "vote from the next one" in text(refused)
    assert count_rows(real_app, Vote) == 1
    room.move("reveal")
    room.move("next")
    assert room.vote(again, "yes").status_code == 303


def test_someone_who_joined_before_voting_opened_votes(real_app):
    room = Room(real_app)
    early = room.participant("Early")
    room.move("start")
    assert room.vote(early, "yes").status_code == 303


def test_people_who_arrive_while_a_vote_is_open_are_told_they_vote_from_the_next_point(real_app):
    room = Room(real_app)
    room.move("start")
    ann = room.participant("Ann")
    # Joining mid-vote: no vote form that would only be refused, and a plain reason.
    page = text(ann.get(f"/join/{room.code}"))
    assert "You joined during this vote: you can vote from the next decision point" in page
    assert 'name="vote"' not in page
    refused = room.vote(ann, "yes")
    assert refused.status_code == 409 and "vote from the next one" in text(refused)
    assert count_rows(real_app, Vote) == 0
    # The refusal does not linger once the answer is revealed; on the next point they vote, counted.
    room.move("reveal")
    assert "There is a problem" not in text(ann.get(f"/join/{room.code}/panel?seen=-1"))
    room.move("next")
    assert "Your vote" in text(ann.get(f"/join/{room.code}"))
    assert room.vote(ann, "not_sure").status_code == 303
    assert "Votes: 1</strong> of 1" in text(room.trainer.get(f"/training/sessions/{room.session_id}/live"))
    room.move("reveal")
    rows = list(csv.DictReader(io.StringIO(text(room.trainer.get(f"/training/sessions/{room.session_id}/report.csv")))))
    assert [int(row["votes"]) for row in rows][:2] == [0, 1]


def test_joining_again_under_another_name_mid_vote_gives_no_second_vote(real_app):
    room = Room(real_app)
    bob = room.participant("Bob")
    room.move("start")
    assert room.vote(bob, "yes").status_code == 303
    # The same browser joining again is still Bob, who has voted.
    bob.get(f"/join?code={room.code}")
    assert bob.post("/join", {"code": room.code, "name": "Bobby"}).status_code == 303
    assert room.vote(bob, "no").status_code == 409
    # A new browser (cookies cleared) under any name: no vote on the open point.
    for name in (" BOB ", "Someone else"):
        again = room.participant(name)
        assert 'name="vote"' not in text(again.get(f"/join/{room.code}"))
        assert room.vote(again, "no").status_code == 409
    assert count_rows(real_app, Vote) == 1


def test_a_refused_votes_message_is_inside_the_part_of_the_page_that_redraws(real_app):
    room = Room(real_app)
    ann = room.participant("Ann")
    room.move("start")
    room.vote(ann, "yes")
    page = text(room.vote(ann, "no"))
    assert page.index('id="session-panel"') < page.index("There is a problem")


def age_participants(app, by: timedelta):
    session = app.extensions["db_sessions"]()
    session.execute(update(Participant).values(last_seen_at=utcnow() - by))
    session.commit()
    session.close()


def test_scripted_joins_that_go_quiet_do_not_lock_real_participants_out(real_app, monkeypatch):
    monkeypatch.setattr(live_sessions, "JOIN_PER_ADDRESS", live_sessions.Rule(
        "join-address-test", free=10_000, first_delay=1, max_delay=1, forget_after=600))
    room = Room(real_app)
    for n in range(MAX_PARTICIPANTS):
        room.participant(f"bot {n}")
    full = Client(real_app)
    full.get("/join")
    response = full.post("/join", {"code": room.code, "name": "Real person"})
    assert response.status_code == 400 and "full" in text(response)
    assert count_rows(real_app, Participant) == MAX_PARTICIPANTS
    # The scripts never poll the room: a few minutes on, their places are free for real people.
    age_participants(real_app, PRESENT_WITHIN + timedelta(seconds=1))
    assert room.participant("Real person")


def test_a_participant_who_polls_keeps_their_place(real_app):
    room = Room(real_app)
    ann = room.participant("Ann")
    age_participants(real_app, PRESENT_WITHIN - timedelta(seconds=10))
    assert ann.get(f"/join/{room.code}/panel?seen=-1").status_code == 200
    session = real_app.extensions["db_sessions"]()
    last_seen = session.query(Participant).one().last_seen_at
    session.close()
    last_seen = last_seen if last_seen.tzinfo else last_seen.replace(tzinfo=utcnow().tzinfo)
    assert utcnow() - last_seen < timedelta(seconds=30)


def test_join_is_rate_limited_per_address(real_app):
    room = Room(real_app)
    rule = live_sessions.JOIN_PER_ADDRESS
    statuses = []
    for n in range(rule.free + 3):
        person = Client(real_app)
        person.get("/join")
        statuses.append(person.post("/join", {"code": room.code, "name": f"bot {n}"}).status_code)
    assert statuses[:rule.free] == [303] * rule.free
    assert statuses[-1] == 429
    assert count_rows(real_app, Participant) <= rule.free + 1
