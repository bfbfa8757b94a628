"""Live trainer sessions over HTTP: join with a code, vote, reveal, report; bad input refused."""

import csv
import io
import re
import threading
import time

import pytest

from guide.models import Participant, TrainingSession, Vote

from tests.conftest import Client, count_rows

CASES = ["ce08_police_nigel", "ce13_playgroup"]


def text(response):
    return response.get_data(as_text=True)


class Room:
    """A trainer's client and helpers to move the room."""

    def __init__(self, app, cases=CASES, keep_names=False):
        self.app = app
        self.trainer = Client(app).sign_in("trainer")
        self.trainer.get("/training")
        data = {"cases": cases}
        if keep_names:
            data["keep_names"] = "yes"
        response = self.trainer.post("/training", data)
        assert response.status_code == 303, text(response)
        self.session_id = response.location.rsplit("/", 1)[1]
        self.code = self.row().code

    def row(self) -> TrainingSession:
        session = self.app.extensions["db_sessions"]()
        try:
            return session.get(TrainingSession, self.session_id)
        finally:
            session.close()

    def move(self, action, state=None, step=None):
        row = self.row()
        self.trainer.get(f"/training/sessions/{self.session_id}")
        return self.trainer.post(f"/training/sessions/{self.session_id}/move", {
            "action": action, "state": row.state if state is None else state, "step": row.step if step is None else step})

    def participant(self, name):
        person = Client(self.app)
        person.get(f"/join?code={self.code}")
        response = person.post("/join", {"code": self.code.lower(), "name": name})
        assert response.status_code == 303, text(response)
        return person

    def vote(self, person, value, step=None):
        person.get(f"/join/{self.code}")
        return person.post(f"/join/{self.code}/vote", {"vote": value, "step": self.row().step if step is None else step})


@pytest.fixture
def room(real_app):
    return Room(real_app)


def test_the_trainer_screen_shows_the_code_link_and_qr(room):
    page = text(room.trainer.get(f"/training/sessions/{room.session_id}"))
    assert room.code in page and f"/join?code={room.code}" in page
    assert "<svg" in page and "QR code to join" in page
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{6}", room.code)


def test_a_room_votes_and_the_report_matches_the_votes(room, real_app):
    guidance = real_app.extensions["guidance"]
    points = [p for case in CASES for p in guidance.scenarios[case].decision_points]
    people = [room.participant(name) for name in ("Ann", "Bob", "Cat")]
    assert "3</strong> people have joined" in text(room.trainer.get(f"/training/sessions/{room.session_id}/live"))
    assert room.move("start").status_code == 303
    cast = []
    for index, point in enumerate(points):
        other = next(o.value for o in point.options if o.value != point.guidance)
        votes = [point.guidance, point.guidance, other] if index % 2 == 0 else [other, other, point.guidance]
        for person, value in zip(people, votes):
            page = text(person.get(f"/join/{room.code}"))
            assert "The guidance:" not in page and "Your vote" in page  # not revealed while voting
            assert room.vote(person, value).status_code == 303
        cast.append(votes)
        live = text(room.trainer.get(f"/training/sessions/{room.session_id}/live"))
        assert "Votes: 3" in live
        assert room.move("reveal").status_code == 303
        revealed = text(people[0].get(f"/join/{room.code}"))
        assert "The guidance:" in revealed and point.view_cite in revealed
        assert room.move("next").status_code == 303
    assert room.row().state == "ended"
    report = text(room.trainer.get(f"/training/sessions/{room.session_id}/report"))
    assert report.count("of 3 (") == len(points)
    rows = list(csv.DictReader(io.StringIO(text(room.trainer.get(f"/training/sessions/{room.session_id}/report.csv")))))
    assert [r["decision_point"] for r in rows] == [p.id for p in points]
    for row, point, votes in zip(rows, points, cast):
        assert int(row["votes"]) == 3
        assert int(row["agreed_with_guidance"]) == votes.count(point.guidance)


def test_names_are_forgotten_when_the_session_ends_unless_kept(real_app):
    for keep, expected in ((False, {"Participant 1", "Participant 2"}), (True, {"Ann", "Bob"})):
        room = Room(real_app, keep_names=keep)
        room.participant("Ann"), room.participant("Bob")
        room.move("end")
        session = real_app.extensions["db_sessions"]()
        names = {p.display_name for p in session.query(Participant).filter_by(session_id=room.session_id)}
        session.close()
        assert names == expected


def test_wrong_and_expired_codes_are_refused(room, real_app):
    person = Client(real_app)
    person.get("/join")
    response = person.post("/join", {"code": "ZZZZZZ", "name": "Dee"})
    assert response.status_code == 400 and "That code is not recognised" in text(response)
    room.move("end")
    response = person.post("/join", {"code": room.code, "name": "Dee"})
    assert response.status_code == 400 and "That code is not recognised" in text(response)
    assert count_rows(real_app, Participant) == 0


def test_a_name_is_needed_to_join(room, real_app):
    person = Client(real_app)
    person.get("/join")
    assert person.post("/join", {"code": room.code, "name": "   "}).status_code == 400
    assert person.post("/join", {"code": room.code, "name": "x" * 41}).status_code == 400
    assert count_rows(real_app, Participant) == 0


def test_double_votes_late_votes_and_strangers_are_refused_and_the_tally_is_unchanged(room, real_app):
    ann = room.participant("Ann")
    room.move("start")
    assert room.vote(ann, "not_sure").status_code == 303
    second = room.vote(ann, "yes")
    assert second.status_code == 409 and "already voted" in text(second)
    stranger = Client(real_app)
    stranger.get("/join")
    response = stranger.post(f"/join/{room.code}/vote", {"vote": "yes", "step": 0})
    assert response.status_code in (302, 403)
    bogus = room.vote(ann, "definitely", step=0)
    assert bogus.status_code in (400, 409)
    room.move("reveal")
    bob = room.participant("Bob")
    late = room.vote(bob, "not_sure", step=0)
    assert late.status_code == 409 and "closed" in text(late)
    room.move("next")
    stale = room.vote(bob, "not_sure", step=0)  # a vote for the point that has gone
    assert stale.status_code == 409
    assert count_rows(real_app, Vote) == 1


def test_participants_cannot_run_the_session(room, real_app):
    ann = room.participant("Ann")
    response = ann.post(f"/training/sessions/{room.session_id}/move", {"action": "start", "state": "lobby", "step": 0})
    assert response.status_code == 302 and "/sign-in" in response.location
    other = Client(real_app).sign_in("practitioner")
    assert other.get(f"/training/sessions/{room.session_id}").status_code == 403
    assert room.row().state == "lobby"


def test_a_stale_move_does_not_move_the_room_twice(room):
    assert room.move("start").status_code == 303
    assert room.move("reveal").status_code == 303
    assert room.move("reveal", state="voting", step=0).status_code == 409  # double click
    assert room.move("next").status_code == 303
    assert room.move("next", state="revealed", step=0).status_code == 409
    assert (room.row().state, room.row().step) == ("voting", 1)


def test_participants_pages_redraw_only_when_the_room_moves(room):
    ann = room.participant("Ann")
    revision = room.row().revision
    assert ann.get(f"/join/{room.code}/panel?seen={revision}").status_code == 204
    room.move("start")
    response = ann.get(f"/join/{room.code}/panel?seen={revision}")
    assert response.status_code == 200 and "Your vote" in text(response)


def test_the_trainers_tally_is_answered_empty_until_someone_joins_votes_or_the_room_moves(room):
    live_url = f"/training/sessions/{room.session_id}/live"

    def version_now():
        response = room.trainer.get(live_url)
        assert response.status_code == 200
        return response.headers["ETag"].strip('"')

    version = version_now()
    unchanged = room.trainer.get(f"{live_url}?seen={version}")
    assert unchanged.status_code == 204 and unchanged.get_data() == b""
    assert room.trainer.get(live_url, headers={"If-None-Match": f'"{version}"'}).status_code == 304
    ann = room.participant("Ann")
    joined = room.trainer.get(f"{live_url}?seen={version}")
    assert joined.status_code == 200 and "1</strong> person has joined" in text(joined)
    version = version_now()
    room.move("start")
    assert room.trainer.get(f"{live_url}?seen={version}").status_code == 200
    version = version_now()
    assert room.vote(ann, room.app.extensions["guidance"].scenarios[CASES[0]].decision_points[0].guidance).status_code == 303
    voted = room.trainer.get(f"{live_url}?seen={version}")
    assert voted.status_code == 200 and "Votes: 1" in text(voted)


def test_a_poll_naming_another_rooms_version_is_still_refused_to_a_stranger(room, real_app):
    version = room.trainer.get(f"/training/sessions/{room.session_id}/live").headers["ETag"].strip('"')
    stranger = Client(real_app).sign_in("practitioner")
    assert stranger.get(f"/training/sessions/{room.session_id}/live?seen={version}").status_code == 403


def test_fifty_participants_voting_at_once_lose_and_double_count_nothing(live_server):
    """Real HTTP on loopback: 50 participants, each in its own thread, vote at the same moment."""
    import http.cookiejar
    import urllib.parse
    import urllib.request

    base, app = live_server
    room = Room(app, cases=["ce01_health_visitor"])
    guidance = app.extensions["guidance"]
    options = [o.value for o in guidance.scenarios["ce01_health_visitor"].decision_points[0].options]

    def opener():
        jar = http.cookiejar.CookieJar()
        return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def token(page):
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    people = []
    for number in range(50):
        browser = opener()
        page = browser.open(f"{base}/join?code={room.code}").read().decode()
        csrf = token(page)
        data = urllib.parse.urlencode({"code": room.code, "name": f"P{number}", "csrf_token": csrf}).encode()
        browser.open(f"{base}/join", data).read()
        people.append((browser, csrf, options[number % len(options)]))
    room.move("start")
    start, results = threading.Barrier(50), []

    def vote(browser, csrf, value):
        start.wait()
        data = urllib.parse.urlencode({"vote": value, "step": 0, "csrf_token": csrf}).encode()
        try:
            results.append(browser.open(f"{base}/join/{room.code}/vote", data).status)
        except urllib.error.HTTPError as error:
            results.append(error.code)

    threads = [threading.Thread(target=vote, args=person) for person in people]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    elapsed = time.perf_counter() - began
    assert results == [200] * 50, results
    session = app.extensions["db_sessions"]()
    votes = session.query(Vote).filter_by(session_id=room.session_id).all()
    session.close()
    assert len(votes) == 50 and len({v.participant_id for v in votes}) == 50
    expected = {value: sum(1 for *_, v in people if v == value) for value in options}
    assert {value: sum(1 for v in votes if v.value == value) for value in options} == expected
    live = room.trainer.get(f"/training/sessions/{room.session_id}/live").get_data(as_text=True)
    assert "Votes: 50" in live
    print(f"50 concurrent votes over HTTP in {elapsed:.2f}s")


def test_the_trainer_screen_hides_how_the_room_is_voting_until_the_vote_closes(room, real_app):
    point = real_app.extensions["guidance"].scenarios[room.row().scenario_ids[0]].decision_points[0]
    people = [room.participant(name) for name in ("Ann", "Bob")]  # the room joins, then the trainer starts
    assert room.move("start").status_code == 303
    other = next(o for o in point.options if o.value != point.guidance)
    for person, value in zip(people, (point.guidance, other.value)):
        assert room.vote(person, value).status_code == 303
    live = text(room.trainer.get(f"/training/sessions/{room.session_id}/live"))
    assert "Votes: 2" in live and "<meter" not in live and other.label not in live
    assert room.move("reveal").status_code == 303
    live = text(room.trainer.get(f"/training/sessions/{room.session_id}/live"))
    bars = re.findall(r'<meter class="app-tally__bar" min="0" max="2" value="(\d)">', live)
    assert sorted(bars) == ["0"] * (len(point.options) - 2) + ["1", "1"]
    assert live.count("govuk-tag--green") == 1


def test_ending_a_session_asks_first_and_changes_nothing_until_confirmed(room):
    control = text(room.trainer.get(f"/training/sessions/{room.session_id}"))
    assert 'value="end"' not in control  # no one-press end button beside "Next"
    confirm = text(room.trainer.get(f"/training/sessions/{room.session_id}/end"))
    assert "Are you sure you want to end the session?" in confirm and 'value="end"' in confirm
    assert room.row().state == "lobby"
    assert room.move("end").status_code == 303
    assert room.row().state == "ended"
