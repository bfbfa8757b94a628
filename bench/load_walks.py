"""Load: many practitioners walking "Should I share?" at once, against gunicorn on loopback.

Each simulated practitioner (a thread with its own keep-alive connection and cookies) signs
in once, then, until the time is up: starts a walk of the `confidentiality` flowchart,
answers every question with a random answer the page offers (POST → 303 → GET the next
question), reads the outcome (with the answers to check), fills in the decision record form on it
with valid random details and saves it (POST → 303 → GET the saved page), and starts again.

    .venv/bin/python bench/load_walks.py                 # 100 practitioners, 60 s, about 3 minutes in all
    .venv/bin/python bench/load_walks.py --duration 20 --workers 2 --threads 4
    .venv/bin/python bench/load_walks.py --think 1.0     # each practitioner pauses ~1 s on each page
    .venv/bin/python bench/load_walks.py --database-url postgresql+psycopg://postgres@127.0.0.1:55433/postgres

Sign-in happens before the clock starts; a warm-up runs the same load untimed for `--warmup`
seconds (5) and until every practitioner has been once round (so every worker has compiled
every page's template); then `--duration` seconds are measured. When the time is up nobody
starts another request; requests in flight may finish for `--timeout` seconds more, then the
run stops regardless (and a watchdog ends the whole script if it overruns its time budget).

It prints requests, completed walks and saved records, throughput, latency by request kind
(p50/p90/p99/max), errors by kind, and the CPU that the server, this client and the machine's
other processes used. Then it
checks the database directly: every record a client saw acknowledged (303 to its saved page)
is there for the right walk, every acknowledged answer has its audit event, and the audit
chain verifies. Two baselines run under the same users and gunicorn settings: a bare Flask app
(bench_servers.bare_app, the issue's baseline) and the same app whose POST durably commits one
row to SQLite with the guide's settings (bench_servers.durable_app: the floor a durable write
puts on throughput; --no-durable-baseline skips it). "Ratios" gives throughput guide/bare and
guide/(bare + durable commit) and the server CPU per request of each. Figures are printed,
never asserted.

A third baseline shows how much room the 1/3 goal leaves: bare Flask doing by hand, through
SQLAlchemy's thinnest path, what a guide step must do (bench_servers.guarantees_app: the session
row read and opened, the form token compared, the walk read and replayed through the real
flowchart machine, the answer written back encrypted, the chained audit event in the same durable
commit, the checkpoint file, the page with its token and nonce). Its users start walks and answer
each question with a random answer the flowchart offers there, as the guide's do, to the outcome
page (no record form: the by-hand app has none). "Ratios" gives its throughput as a fraction of
bare Flask's, and the guide's as a fraction of its; --no-guarantees-baseline skips it.

The goals it reports on (from the issues): zero errors, p99 under 100 ms on this 2-core machine,
nothing acknowledged lost, and at least a third of bare Flask's throughput with the same settings.
"""

from __future__ import annotations

import argparse
import html
import os
import platform
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

from measure import (OverHttp, cpu_model, filesystem_of, machine_busy_seconds, percentile,  # noqa: E402
                     process_cpu_seconds, start_gunicorn, stats_ms, stop, version)

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO))

FLOWCHART = "confidentiality"
PASSWORD = "load password 2026 long enough"
GOAL_P99_MS = 100.0
GOAL_THROUGHPUT_OF_BARE = 1 / 3  # issue 13: at least a third of bare Flask's throughput, same settings

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
INPUT = re.compile(r"<input\b[^>]*>")
ATTRIBUTE = re.compile(r'\b(name|type|value)="([^"]*)"')
FIELD_NAME = re.compile(r'<(?:input|textarea)\b[^>]*\bname="([^"]+)"')
WALK_PAGE = re.compile(r"^/walks/([0-9A-Za-z_-]+)/([a-z0-9_]+)$")
SAVED_PAGE = re.compile(r"^/records/([0-9A-Za-z_-]+)/saved$")

# What a practitioner writes in the record form's text boxes (each only if the form has it).
RECORD_TEXT = {
    "consent_note": "Seeking consent would put the child at risk of harm.",
    "advice_from": "Named nurse for safeguarding, Northshire Health",
    "information_shared": "Concerns raised at the home visit on the child's weight and the state of the home.",
    "recipient_name": "A. Social-Worker",
    "recipient_job_title": "Social worker",
    "recipient_organisation": "Northshire Children's Social Care",
    "recipient_contact": "0117 496 0000",
    "method_detail": "Handed over at the multi-agency meeting.",
    "not_told_reason": "Telling the parents could put the child at risk.",
    "basis_detail": "Risk of significant harm to the child.",
    "notes": "Recorded by the load benchmark.",
    "other_practitioners": "",
}
# Request kinds in the order they are printed; the guide's walk, then the bare baseline.
KINDS = ["start walk POST", "question GET", "question POST", "outcome GET",
         "record save POST", "saved GET"]
BARE_KINDS = ["bare POST", "bare GET"]
BY_HAND_KINDS = ["by-hand start POST", "by-hand POST", "by-hand GET"]


def offered(page: str) -> dict[str, list[str]]:
    """The radio and checkbox values a page offers, by field name."""
    found: dict[str, list[str]] = defaultdict(list)
    for tag in INPUT.findall(page):
        attrs = dict(ATTRIBUTE.findall(tag))
        if attrs.get("type") in ("radio", "checkbox") and "name" in attrs:
            found[attrs["name"]].append(html.unescape(attrs.get("value", "")))
    return found


# --------------------------------------------------------------------------- simulated users

class Failed(Exception):
    """A request went wrong (already counted): the practitioner gives up this walk and starts another."""


class Stopped(Exception):
    """The time is up."""


class Window:
    """When measuring starts (requests that start earlier are the warm-up) and the signal to stop."""

    def __init__(self):
        self.measure_from = float("inf")
        self.measure_to = float("inf")
        self.stop = threading.Event()
        self.warmed = 0  # users who have been once round (every page visited: templates compiled everywhere)
        self.changed = threading.Condition()

    def warmed_up(self) -> None:
        with self.changed:
            self.warmed += 1
            self.changed.notify_all()

    def measured(self, t_ns: int) -> bool:
        return self.measure_from <= t_ns < self.measure_to


class SimulatedUser:
    """One person at one browser: a keep-alive connection, cookies, the page's CSRF token, pauses to read."""

    def __init__(self, number: int, port: int, *, think: float, timeout: float, seed: int):
        self.number = number
        self.port = port
        self.think_mean = think
        self.timeout = timeout
        self.rng = random.Random(seed * 100_003 + number)
        self.http = OverHttp(port, timeout=timeout)
        self.token = ""
        self.window: Window | None = None
        self.samples: dict[str, list[int]] = defaultdict(list)   # kind -> ns, measured requests only
        self.timeline: list[tuple[int, int, str]] = []            # (start, ns, kind), measured requests only
        self.errors: Counter = Counter()                          # (kind, what) -> count, every phase
        self.walks = 0              # completed (record saved and shown) inside the window
        self.records_in_window = 0  # record saves acknowledged inside the window
        self.acknowledged: list[tuple[str, str]] = []             # (record id, walk id), every phase
        self.answers_acknowledged = 0                             # question POSTs answered 303, every phase
        self.ready = False
        self.setup_error = ""

    # -- requests
    def call(self, kind: str, method: str, path: str, form=None, *, expect: int) -> str | None:
        """One request, timed. Returns the Location (POST) or the page (GET); raises Failed or Stopped."""
        if self.window.stop.is_set():
            raise Stopped
        t0 = time.perf_counter_ns()
        try:
            if method == "POST":
                status, got = self.http.post(path, form)
            else:
                status, got = self.http.get(path)
        except TimeoutError:
            self.http.close()
            self.errors[(kind, f"timeout (>{self.timeout:g} s)")] += 1
            raise Failed from None
        except Exception as exc:  # noqa: BLE001 - counted and reported, never hidden
            self.http.close()
            self.errors[(kind, f"exception {type(exc).__name__}: {str(exc)[:60]}")] += 1
            raise Failed from None
        elapsed = time.perf_counter_ns() - t0
        if self.window.measured(t0):
            self.samples[kind].append(elapsed)
            self.timeline.append((t0, elapsed, kind))
        if status != expect:
            what = f"HTTP {status}" if status >= 400 else f"unexpected {status} (wanted {expect})"
            self.errors[(kind, what)] += 1
            raise Failed
        if method == "GET":
            found = TOKEN.search(got)
            if found:
                self.token = found.group(1)
        return got

    def fail(self, kind: str, what: str):
        self.errors[(kind, what)] += 1
        raise Failed

    def pause(self, scale: float = 1.0) -> None:
        """Read the page: a random pause averaging `think` seconds (none with --think 0)."""
        if self.think_mean > 0 and self.window.stop.wait(self.rng.uniform(0, 2 * self.think_mean * scale)):
            raise Stopped

    # -- the life of a simulated user
    def sign_in(self) -> None:
        """Before the clock starts (nothing here is timed)."""

    def one_round(self) -> None:
        raise NotImplementedError

    def run(self, window: Window, barrier: threading.Barrier, sign_in_slots: threading.Semaphore) -> None:
        self.window = window
        try:
            with sign_in_slots:
                self.sign_in()
            self.ready = True
        except Exception as exc:  # noqa: BLE001
            self.setup_error = f"{type(exc).__name__}: {exc}"[:200]
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return
        if not self.ready:
            return
        try:
            self.pause(0.5)  # arrive spread out, not all on the same millisecond
        except Stopped:
            return
        rounds = 0
        while not window.stop.is_set():
            try:
                self.one_round()
            except Failed:
                pass
            except Stopped:
                break
            rounds += 1
            if rounds == 1:
                window.warmed_up()
        self.http.close()


class Practitioner(SimulatedUser):
    """Signs in once, then walks the confidentiality flowchart and records the decision, again and again."""

    def __init__(self, number: int, port: int, email: str, **kw):
        super().__init__(number, port, **kw)
        self.email = email
        self.serial = 0

    def sign_in(self) -> None:
        conn = self.http.conn
        conn.timeout = max(self.timeout, 120)  # sign-in hashes the password (argon2): slow on purpose
        status, page = self.http.get("/sign-in")
        assert status == 200, f"GET /sign-in answered {status}"
        self.token = TOKEN.search(page).group(1)
        status, location = self.http.post("/sign-in", {"email": self.email, "password": PASSWORD,
                                                       "csrf_token": self.token})
        assert status == 303, f"POST /sign-in answered {status}"
        status, page = self.http.get(location)
        assert status == 200, f"GET {location} answered {status}"
        self.token = TOKEN.search(page).group(1)
        conn.timeout = self.timeout
        if conn.sock is not None:
            conn.sock.settimeout(self.timeout)

    def record_form(self, page: str) -> list[tuple[str, str]]:
        """The form as a practitioner fills it in: a random choice for each radio, every checklist point."""
        self.serial += 1
        present = set(FIELD_NAME.findall(page))
        form = [("csrf_token", self.token), ("subject_ref", f"LOAD-{self.number:03d}-{self.serial:05d}")]
        form += [(name, text) for name, text in RECORD_TEXT.items() if name in present]
        for name, values in offered(page).items():
            if name == "checklist":
                form += [("checklist", value) for value in values]
            else:
                form.append((name, self.rng.choice(values)))
        if "shared_on-day" in present:
            today = date.today()
            form += [("shared_on-day", str(today.day)), ("shared_on-month", str(today.month)),
                     ("shared_on-year", str(today.year))]
        return form

    def one_round(self) -> None:
        self.pause()  # on the home page, or on the last record's saved page
        location = self.call("start walk POST", "POST", f"/flowcharts/{FLOWCHART}/start",
                             {"csrf_token": self.token}, expect=303)
        at = WALK_PAGE.match(location or "")
        if not at:
            self.fail("start walk POST", f"redirected to {location!r}")
        walk_id = at.group(1)
        outcome_url = f"/walks/{walk_id}/outcome"
        page = self.call("question GET", "GET", location, expect=200)
        while True:
            answers = offered(page).get("answer")
            if not answers:
                self.fail("question GET", "no answers offered on the page")
            self.pause()
            location = self.call("question POST", "POST", f"/walks/{walk_id}/{at.group(2)}",
                                 {"answer": self.rng.choice(answers), "csrf_token": self.token}, expect=303)
            self.answers_acknowledged += 1
            if location == outcome_url:
                # The outcome page: what to do now, the answers to check, and the record form.
                page = self.call("outcome GET", "GET", location, expect=200)
                break
            at = WALK_PAGE.match(location or "")
            if not at or at.group(1) != walk_id:
                self.fail("question POST", f"redirected to {location!r}")
            page = self.call("question GET", "GET", location, expect=200)
        self.pause(2)  # filling in a form takes longer than reading a question
        t_ack = time.perf_counter_ns()
        location = self.call("record save POST", "POST", f"/walks/{walk_id}/record", self.record_form(page),
                             expect=303)
        saved = SAVED_PAGE.match(location or "")
        if not saved:
            self.fail("record save POST", f"redirected to {location!r}")
        self.acknowledged.append((saved.group(1), walk_id))
        in_window = self.window.measured(t_ack)
        self.records_in_window += in_window
        self.call("saved GET", "GET", location, expect=200)
        self.walks += in_window


class BareUser(SimulatedUser):
    """The baseline: the same POST → 303 → GET steps, with the same pauses, against a bare Flask app."""

    STEPS = 13  # about as many as a walk of the confidentiality flowchart
    serial = 0

    def one_round(self) -> None:
        self.serial += 1
        walk_id = f"u{self.number}w{self.serial}"
        for step in range(self.STEPS):
            self.pause()
            location = self.call("bare POST", "POST", f"/bare/{walk_id}/q{step}",
                                 {"answer": "yes", "next": f"q{step + 1}", "csrf_token": "bare-token"}, expect=303)
            self.call("bare GET", "GET", location, expect=200)
        self.walks += self.window.measured(time.perf_counter_ns())


class GuaranteesUser(SimulatedUser):
    """The by-hand baseline (bench_servers.guarantees_app): signs in once, then starts a walk and answers each
    question with a random answer the flowchart offers there (from the flowchart's machine, in this process),
    POST → 303 → GET, with the same pauses, to the outcome page."""

    def __init__(self, number: int, port: int, *, machine, **kw):
        super().__init__(number, port, **kw)
        self.machine = machine  # the confidentiality flowchart's FlowMachine (its replays are thread-safe)

    def sign_in(self) -> None:
        """Before the clock starts (not timed): a session row and its cookie."""
        status, _ = self.http.post("/bare/sign-in", {})
        assert status == 303 and "floor_sid" in self.http.cookies, f"POST /bare/sign-in answered {status}"

    def one_round(self) -> None:
        self.pause()  # on the last walk's outcome page
        location = self.call("by-hand start POST", "POST", "/bare/start", {}, expect=303)
        parts = (location or "").split("/")
        if len(parts) != 4 or parts[1] != "bare":
            self.fail("by-hand start POST", f"redirected to {location!r}")
        walk_id = parts[2]
        answers: dict[str, str] = {}
        here = self.machine.replay(answers).current
        self.call("by-hand GET", "GET", location, expect=200)
        while True:
            if here is None or location != f"/bare/{walk_id}/{here.id}":
                self.fail("by-hand POST", f"at {location!r}, the flowchart is at {here and here.id!r}")
            value = self.rng.choice([answer.value for answer in here.answers])
            self.pause()
            location = self.call("by-hand POST", "POST", location, {"answer": value, "csrf_token": self.token},
                                 expect=303)
            answers[here.id] = value
            here = self.machine.replay(answers).current
            self.call("by-hand GET", "GET", location, expect=200)
            if here is None:
                if location != f"/bare/{walk_id}/outcome":
                    self.fail("by-hand POST", f"redirected to {location!r}, not the outcome")
                break
        self.walks += self.window.measured(time.perf_counter_ns())


def run_load(users: list[SimulatedUser], server: subprocess.Popen, *, warmup: float, duration: float,
             timeout: float, sign_in_slots: int) -> dict:
    """Sign everyone in, release them together, warm up, measure `duration` seconds, stop, gather."""
    window = Window()
    barrier = threading.Barrier(len(users) + 1)
    slots = threading.Semaphore(sign_in_slots)
    threads = [threading.Thread(target=user.run, args=(window, barrier, slots), daemon=True,
                                name=f"user-{user.number}") for user in users]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    barrier.wait()
    signed_in = time.perf_counter() - began
    clock = time.perf_counter_ns
    # Warm-up: at least `warmup` seconds, and until everyone has been once round (or 60 s more).
    warm_until = time.monotonic() + warmup
    ready = sum(user.ready for user in users)
    with window.changed:
        window.changed.wait_for(lambda: window.warmed >= ready, timeout=warmup + 60)
    time.sleep(max(0.0, warm_until - time.monotonic()))
    window.measure_from = clock()
    connections0 = sum(user.http.connections for user in users)
    warmed_s = time.perf_counter() - began - signed_in
    cpu_server0, cpu_client0, cpu_all0 = process_cpu_seconds(server.pid), time.process_time(), machine_busy_seconds()
    window.measure_to = window.measure_from + int(duration * 1e9)
    time.sleep(max(0.0, (window.measure_to - clock()) / 1e9))
    window.stop.set()
    cpu_server1, cpu_client1, cpu_all1 = process_cpu_seconds(server.pid), time.process_time(), machine_busy_seconds()
    # Hard stop: in-flight requests get their timeout and a little more, then we go on without them.
    deadline = time.monotonic() + timeout + 5
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = sum(thread.is_alive() for thread in threads)
    samples: dict[str, list[int]] = defaultdict(list)
    errors: Counter = Counter()
    timeline = []
    for user in users:
        for kind, got in user.samples.items():
            samples[kind] += got
        errors.update(user.errors)
        timeline += [(t0 - window.measure_from, ns, kind) for t0, ns, kind in user.timeline]
    return {
        "sign_in_s": signed_in, "warmup_s": warmed_s, "samples": samples, "errors": errors, "stuck": stuck, "duration": duration,
        "ready": sum(u.ready for u in users), "setup_errors": Counter(u.setup_error for u in users if u.setup_error),
        "walks": sum(u.walks for u in users), "records": sum(getattr(u, "records_in_window", 0) for u in users),
        "acknowledged": [pair for u in users for pair in getattr(u, "acknowledged", [])],
        "answers_acknowledged": sum(getattr(u, "answers_acknowledged", 0) for u in users),
        "connections": sum(u.http.connections for u in users) - connections0,
        "cpu_server": cpu_server1 - cpu_server0, "cpu_client": cpu_client1 - cpu_client0,
        "cpu_other": (cpu_all1 - cpu_all0) - (cpu_server1 - cpu_server0) - (cpu_client1 - cpu_client0),
        "timeline": sorted(timeline),
    }


# --------------------------------------------------------------------------- database

def prepare_database(url: str, keyring, users: int, run_tag: str) -> tuple[list[str], list[int]]:
    """Migrate the database and create the practitioners; returns their emails and ids."""
    from guide.db import migrate
    from bench_servers import guide_app
    from guide.accounts.users import create_user

    migrate(url, keyring)
    app = guide_app(url, "load-bench-secret", str(REPO / "content"))
    emails, ids = [], []
    with app.app_context():
        session = app.extensions["db_sessions"]()
        for number in range(users):
            email = f"load-{run_tag}-{number:03d}@bench.test"
            user = create_user(session, email=email, name=f"Load Practitioner {number}", role="practitioner",
                               agency="Northshire Health", team=f"Team {number % 5}", job_title="Health visitor",
                               password=PASSWORD)
            emails.append(email)
            ids.append(user.id)
        session.commit()
        session.close()
    app.extensions["db_engine"].dispose()
    return emails, ids


def check_database(url: str, keyring, acknowledged: list[tuple[str, str]], answers_acknowledged: int,
                   user_ids: list[int]) -> dict:
    """After the run, straight from the database: acknowledged records present, audit events, the chain."""
    from sqlalchemy import func, select

    from guide.audit import verify
    from guide.db import make_engine
    from guide.models import AuditEvent, DecisionRecord

    engine = make_engine(url, keyring)
    try:
        with engine.connect() as conn:
            stored: dict[str, str] = {}
            wanted = [record_id for record_id, _ in acknowledged]
            for i in range(0, len(wanted), 500):
                rows = conn.execute(select(DecisionRecord.id, DecisionRecord.walk_id)
                                    .where(DecisionRecord.id.in_(wanted[i:i + 500])))
                stored.update({record_id: walk_id for record_id, walk_id in rows})
            missing = [r for r, _ in acknowledged if r not in stored]
            wrong_walk = [r for r, w in acknowledged if r in stored and stored[r] != w]
            ours = DecisionRecord.author_id.in_(user_ids)
            records_in_db = conn.scalar(select(func.count()).select_from(DecisionRecord).where(ours))
            by_user = AuditEvent.user_id.in_(user_ids)
            events = dict(conn.execute(select(AuditEvent.action, func.count()).where(by_user)
                                       .group_by(AuditEvent.action)).all())
            unsealed = conn.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.hash.is_(None)))
        checked, broken, why = verify(engine)
    finally:
        engine.dispose()
    return {"acknowledged": len(acknowledged), "missing": missing, "wrong_walk": wrong_walk,
            "records_in_db": records_in_db, "events": events, "unsealed": unsealed,
            "answers_acknowledged": answers_acknowledged, "chain": (checked, broken, why)}


# --------------------------------------------------------------------------- reporting

def row(label: str, samples: list[int]) -> str:
    if not samples:
        return f"  {label:<22} {0:>7}"
    s = stats_ms(samples)
    return (f"  {label:<22} {s['n']:>7} {s['p50']:>8.2f} {s['p90']:>8.2f} {s['p99']:>8.2f} "
            f"{s['max']:>8.1f} {s['mean']:>8.2f}")


def table(title: str, result: dict, kinds: list[str]) -> list[int]:
    print(title)
    print(f"  {'request kind':<22} {'count':>7} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8} {'mean':>8}   (ms)")
    every = []
    for kind in kinds:
        if result["samples"].get(kind):
            print(row(kind, result["samples"][kind]))
            every += result["samples"][kind]
    print(row("all requests", every))
    return every


def throughput(result: dict, every: list[int], label: str) -> None:
    d = result["duration"]
    print(f"  throughput: {len(every)} requests in {d:g} s = {len(every) / d:.1f} requests/s; "
          f"{result['walks']} {label} = {result['walks'] / d:.2f}/s")
    print(f"  CPU used in the window (of {os.cpu_count()} CPUs): server {result['cpu_server'] / d:.2f} cores, "
          f"this client {result['cpu_client'] / d:.2f}, other processes on the machine "
          f"{result['cpu_other'] / d:.2f}; TCP connections opened in the window {result['connections']}")
    timeline, step = result["timeline"], max(1.0, d / 6)
    slices = []
    for i in range(int(-(-d // step))):
        got = [ns for t0, ns, _ in timeline if i * step <= t0 / 1e9 < (i + 1) * step]
        if got:
            slices.append(f"{i * step:.0f}-{min(d, (i + 1) * step):.0f}s {len(got) / min(step, d - i * step):.0f}/s "
                          f"p50 {percentile(got, 50) / 1e6:.0f} p99 {percentile(got, 99) / 1e6:.0f}")
    print("  over time (requests/s, ms): " + "; ".join(slices))
    slowest = sorted(timeline, key=lambda item: -item[1])[:5]
    print("  slowest: " + "; ".join(f"{kind} at {t0 / 1e9:.1f}s {ns / 1e6:.0f} ms" for t0, ns, kind in slowest))
    errors = result["errors"]
    total = sum(errors.values())
    print(f"  errors: {total}" + ("" if total else " (none)"))
    for (kind, what), count in sorted(errors.items(), key=lambda item: -item[1]):
        print(f"    {count:>6}  {kind}: {what}")
    if result["stuck"]:
        print(f"  {result['stuck']} simulated users were still waiting at the hard stop (left behind)")


BARE = "bare Flask"
DURABLE = "bare Flask + durable commit"
GUARANTEES = "bare Flask + the guarantees by hand"


def requests_per_s(result: dict, every: list[int]) -> float:
    return len(every) / result["duration"]


def throughput_ratio(guide: dict, guide_every: list[int], base: dict, base_every: list[int]) -> float:
    return requests_per_s(guide, guide_every) / requests_per_s(base, base_every)


def cpu_ms_per_request(result: dict, every: list[int]) -> float:
    """Server CPU (all gunicorn processes) used in the window per request started in the window, in ms."""
    return 1000 * result["cpu_server"] / max(1, len(every))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100, help="simulated practitioners at once (default 100)")
    parser.add_argument("--duration", type=float, default=60, help="measured seconds (default 60)")
    parser.add_argument("--warmup", type=float, default=5, help="untimed seconds of the same load first (default 5)")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean pause on each page, seconds (default 0: every user asks again at once)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3)")
    parser.add_argument("--threads", type=int, default=2, help="gthread threads per worker (default 2)")
    parser.add_argument("--timeout", type=float, default=10, help="seconds a request may take before it "
                        "counts as a timeout (default 10)")
    parser.add_argument("--baseline-duration", type=float, default=15,
                        help="measured seconds of each baseline (default 15; 0 skips them all)")
    parser.add_argument("--no-durable-baseline", dest="durable_baseline", action="store_false",
                        help="skip the second baseline, bare Flask + one durable SQLite commit per POST")
    parser.add_argument("--no-guarantees-baseline", dest="guarantees_baseline", action="store_false",
                        help="skip the third baseline, bare Flask doing the guide step's guarantees by hand "
                             "(through SQLAlchemy)")
    parser.add_argument("--database-url", default=None,
                        help="an empty database to use instead of a new SQLite file (e.g. PostgreSQL); "
                             "it is migrated, and the users are added with names unique to this run")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    baselines = 0 if args.baseline_duration <= 0 else 1 + args.durable_baseline + args.guarantees_baseline
    budget = (420 + args.warmup + 60 + args.duration + 2 + baselines * (60 + args.baseline_duration)
              + (2 + 2 * baselines) * args.timeout)
    servers: list[subprocess.Popen] = []

    def hard_stop():
        print(f"\nHARD STOP: the run overran its {budget:.0f} s budget; stopping gunicorn and exiting.", flush=True)
        for proc in servers:
            proc.kill()
        os._exit(2)

    watchdog = threading.Timer(budget, hard_stop)
    watchdog.daemon = True
    watchdog.start()

    # Fixture users get argon2's cheapest parameters (GUIDE_CHEAP_PASSWORD_HASHING=1 in this process
    # only): the server rehashes each password with the real parameters at its first sign-in, so
    # every sign-in still does one real argon2 hash, before the clock starts.
    cheap_was = os.environ.get("GUIDE_CHEAP_PASSWORD_HASHING")
    os.environ["GUIDE_CHEAP_PASSWORD_HASHING"] = "1"
    import guide.accounts.users  # noqa: F401  (reads the setting once, at import)
    guide_from = Path(sys.modules["guide"].__file__).parent  # REPO is first on sys.path: this checkout's guide
    from guide.crypto import ENV_KEYS, KeyRing, new_key
    if cheap_was is None:
        del os.environ["GUIDE_CHEAP_PASSWORD_HASHING"]
    else:
        os.environ["GUIDE_CHEAP_PASSWORD_HASHING"] = cheap_was

    key = new_key()
    os.environ[ENV_KEYS] = key  # this process (migrations, fixtures, the checks) and every worker: one key
    keyring = KeyRing([key])
    tmp = Path(tempfile.mkdtemp(prefix="guide-load-"))
    url = args.database_url or f"sqlite:///{tmp / 'load.sqlite3'}"
    run_tag = f"{int(time.time())}-{os.getpid()}"
    started = time.perf_counter()
    try:
        emails, user_ids = prepare_database(url, keyring, args.users, run_tag)
        print("== load: simulated practitioners walking 'Should I share?' against gunicorn ==")
        print(f"python       {platform.python_version()} on {platform.platform()}")
        affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
        print(f"cpu          {cpu_model()}; cpu_count={os.cpu_count()} usable={affinity}; "
              f"loadavg={' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"guide        imported from {guide_from} (this checkout: the workers get "
              f"PYTHONPATH={BENCH}{os.pathsep}{REPO})")
        print(f"packages     flask {version('flask')}, sqlalchemy {version('sqlalchemy')}, gunicorn "
              f"{version('gunicorn')}, psycopg {version('psycopg')}; sqlite {sqlite3.sqlite_version}")
        database = url.split("://")[0] + (f" file in {tmp} ({filesystem_of(tmp)})" if not args.database_url
                                           else " (given with --database-url)")
        print(f"database     {database}; {args.users} practitioners created in {time.perf_counter() - started:.1f} s")
        print(f"server       gunicorn -k gthread -w {args.workers} --threads {args.threads}, 127.0.0.1, keep-alive")
        print(f"load         {args.users} users at once, each its own keep-alive connection (threads, http.client); "
              f"pause per page {'none' if not args.think else f'uniform 0..{2 * args.think:g} s (mean {args.think:g} s)'}; "
              f"warm-up {args.warmup:g} s, measured {args.duration:g} s; request timeout {args.timeout:g} s")
        print(flush=True)

        env = {k: v for k, v in os.environ.items() if k != "GUIDE_CHEAP_PASSWORD_HASHING"}
        env.update({"BENCH_DATABASE_URL": url, "BENCH_SECRET_KEY": "load-bench-secret",
                    "BENCH_CONTENT_DIR": str(REPO / "content"), ENV_KEYS: key,
                    "PYTHONPATH": os.pathsep.join([str(BENCH), str(REPO)])})
        server, port = start_gunicorn("bench_servers:guide_app()", env, workers=args.workers,
                                      threads=args.threads, replace_env=True)
        servers.append(server)
        people = [Practitioner(n, port, emails[n], think=args.think, timeout=args.timeout, seed=args.seed)
                  for n in range(args.users)]
        guide = run_load(people, server, warmup=args.warmup, duration=args.duration, timeout=args.timeout,
                         sign_in_slots=args.workers * args.threads)
        stop(server)
        print(f"[{guide['ready']}/{args.users} signed in, in {guide['sign_in_s']:.1f} s including the workers' start "
              f"(not timed); warm-up {guide['warmup_s']:.1f} s; guide run done at "
              f"{time.perf_counter() - started:.1f} s]", flush=True)
        for why, count in guide["setup_errors"].items():
            print(f"  sign-in failed for {count}: {why}")

        c_answers = len(guide["samples"].get("question POST", []))
        c_walks = len(guide["samples"].get("start walk POST", []))
        checks = check_database(url, keyring, guide["acknowledged"], guide["answers_acknowledged"], user_ids)

        def baseline(factory: str, extra_env: dict[str, str] | None = None, user: type[SimulatedUser] = BareUser,
                     **user_kw) -> dict:
            """`user`s (BareUser unless told) against `factory` under the same users, pauses and gunicorn settings."""
            server, port = start_gunicorn(factory, {**env, **(extra_env or {})}, workers=args.workers,
                                          threads=args.threads, replace_env=True)
            servers.append(server)
            result = run_load([user(n, port, think=args.think, timeout=args.timeout, seed=args.seed, **user_kw)
                               for n in range(args.users)], server, warmup=2, duration=args.baseline_duration,
                              timeout=args.timeout, sign_in_slots=args.users)
            stop(server)
            return result

        bare = durable = by_hand = None
        if args.baseline_duration > 0:
            bare = baseline("bench_servers:bare_app()")
            if args.durable_baseline:
                durable = baseline("bench_servers:durable_app()", {"BENCH_DURABLE_PATH": str(tmp / "durable.sqlite3")})
            if args.guarantees_baseline:
                from guide.guidance import Guidance

                machine = Guidance.load(REPO / "content").machines[FLOWCHART]
                by_hand = baseline(f"bench_servers:guarantees_app({str(tmp / 'guarantees.sqlite3')!r}, "
                                   f"{FLOWCHART!r}, via='sqlalchemy')", user=GuaranteesUser, machine=machine)
        print()

        every = table(f"The guide: {args.users} practitioners, {args.duration:g} s measured", guide, KINDS)
        throughput(guide, every, "walks completed (record saved)")
        print(f"  decision records saved in the window: {guide['records']} "
              f"({guide['records'] / args.duration:.2f}/s); questions answered per walk: "
              f"{c_answers / max(1, c_walks):.1f} on average (random answers: \"I'm not sure\" ends a walk early)")
        print()
        # Each baseline run: its label, its result, its requests (all kinds) measured in the window, and
        # its request kinds that stand for the guide's question POST and GET.
        compared: list[tuple[str, dict, list[int], str, str]] = []
        bare_walks = f"bare walks of {BareUser.STEPS} steps"
        for label, factory, result, kinds, walks in (
                (BARE, "bare_app", bare, BARE_KINDS, bare_walks),
                (DURABLE, "durable_app", durable, BARE_KINDS, bare_walks),
                (GUARANTEES, "guarantees_app, through SQLAlchemy's exec_driver_sql", by_hand, BY_HAND_KINDS,
                 "by-hand walks to the outcome")):
            if result:
                done = table(f"Baseline: {label} (bench_servers.{factory}), same users and gunicorn, "
                             f"{args.baseline_duration:g} s measured", result, kinds)
                throughput(result, done, walks)
                if kinds is BY_HAND_KINDS:
                    answered = len(result["samples"].get("by-hand POST", []))
                    started_walks = len(result["samples"].get("by-hand start POST", []))
                    print(f"  questions answered per walk: {answered / max(1, started_walks):.1f} on average "
                          f"(random offered answers, as the guide's users)")
                print()
                compared.append((label, result, done, kinds[-2], kinds[-1]))
        done_of = {label: done for label, _, done, _, _ in compared}
        if compared:
            print("Ratios (all requests; server CPU per request = server CPU seconds in the window / "
                  "requests in the window)")
            print(f"  guide: {requests_per_s(guide, every):.0f} requests/s, "
                  f"server CPU {cpu_ms_per_request(guide, every):.2f} ms per request")
            for label, result, done, _, _ in compared:
                print(f"  {label}: {requests_per_s(result, done):.0f} requests/s, "
                      f"server CPU {cpu_ms_per_request(result, done):.2f} ms per request")
            for label, result, done, _, _ in compared:
                g, b = stats_ms(every), stats_ms(done)
                over = f"({label})" if "+" in label else label
                print(f"  guide / {over}: throughput {throughput_ratio(guide, every, result, done):.2f}x   "
                      f"server CPU per request {cpu_ms_per_request(guide, every) / cpu_ms_per_request(result, done):.1f}x"
                      f"   p50 {g['p50'] / b['p50']:.1f}x   p99 {g['p99'] / b['p99']:.1f}x")
            for guide_kind, is_post in (("question POST", True), ("question GET", False)):
                for label, result, _, post_kind, get_kind in compared:
                    bare_kind = post_kind if is_post else get_kind
                    if guide["samples"].get(guide_kind) and result["samples"].get(bare_kind):
                        gk, bk = stats_ms(guide["samples"][guide_kind]), stats_ms(result["samples"][bare_kind])
                        print(f"  {guide_kind:<14} vs {bare_kind:<12} ({label}): p50 {gk['p50'] / bk['p50']:5.1f}x   "
                              f"p99 {gk['p99'] / bk['p99']:5.1f}x")
            if bare and by_hand:
                by_hand_of_bare = throughput_ratio(by_hand, done_of[GUARANTEES], bare, done_of[BARE])
                print(f"  by hand / bare Flask: throughput {by_hand_of_bare:.2f}x   server CPU per request "
                      f"{cpu_ms_per_request(by_hand, done_of[GUARANTEES]) / cpu_ms_per_request(bare, done_of[BARE]):.1f}x")
                print(f"  what the 1/3 goal leaves room for: the guarantees by hand reach {by_hand_of_bare:.2f}× bare Flask's "
                      f"throughput; the guide is {throughput_ratio(guide, every, by_hand, done_of[GUARANTEES]):.2f}× "
                      f"the by-hand baseline")
            print()

        print("Checked in the database after the run")
        c = checks
        print(f"  records acknowledged to clients (303 to the saved page): {c['acknowledged']}; "
              f"missing from the database: {len(c['missing'])}; on the wrong walk: {len(c['wrong_walk'])}")
        for record_id in (c["missing"] + c["wrong_walk"])[:10]:
            print(f"    {record_id}")
        created = c["events"].get("record.create", 0)
        failed_saves = sum(n for (kind, _), n in guide["errors"].items() if kind == "record save POST")
        failed_answers = sum(n for (kind, _), n in guide["errors"].items() if kind == "question POST")
        print(f"  decision records by these users in the database: {c['records_in_db']}; "
              f"record.create audit events: {created}; saved but never acknowledged: "
              f"{c['records_in_db'] - c['acknowledged']} (record saves that failed at the client: {failed_saves})")
        answered = c["events"].get("walk.answer", 0) + c["events"].get("walk.change", 0)
        print(f"  answers acknowledged to clients (303): {c['answers_acknowledged']}; walk.answer audit events: "
              f"{answered} (answers that failed at the client: {failed_answers}); "
              f"walk.start events: {c['events'].get('walk.start', 0)}")
        checked, broken, why = c["chain"]
        print(f"  audit chain: {checked} sealed events checked, "
              + (f"BROKEN at event {broken}: {why}" if broken else "verifies")
              + f"; events left unsealed: {c['unsealed']}")
        print()

        errors = sum(guide["errors"].values())
        p99 = stats_ms(every)["p99"] if every else float("nan")
        # A request the client gave up on may still have been committed: more in the database than was
        # acknowledged is not a loss, as long as no more than the failed requests account for.
        intact = (not c["missing"] and not c["wrong_walk"] and broken is None and c["unsealed"] == 0
                  and created == c["records_in_db"]
                  and 0 <= c["records_in_db"] - c["acknowledged"] <= failed_saves
                  and 0 <= answered - c["answers_acknowledged"] <= failed_answers)
        print("Goals (reported, not asserted)")
        for text, met in ((f"zero errors ({errors} errors, {guide['stuck']} stuck)", errors == 0 and not guide["stuck"]),
                          (f"p99 under {GOAL_P99_MS:g} ms, all requests (p99 {p99:.1f} ms)", p99 < GOAL_P99_MS),
                          ("every acknowledged record and answer is in the database, the audit chain verifies", intact)):
            print(f"  [{'MET' if met else 'NOT MET':>7}] {text}")
        if bare:
            of_bare = throughput_ratio(guide, every, bare, done_of[BARE])
            print(f"  [{'MET' if of_bare >= GOAL_THROUGHPUT_OF_BARE else 'NOT MET':>7}] throughput at least 1/3 of "
                  f"bare Flask's ({of_bare:.2f}×)")
        else:
            print("  [NOT RUN] throughput at least 1/3 of bare Flask's (baseline skipped: --baseline-duration 0)")
        if durable:
            print(f"  [   INFO] throughput {throughput_ratio(guide, every, durable, done_of[DURABLE]):.2f}× of "
                  f"{DURABLE}'s: informational, not a goal (the floor a durable write puts on throughput)")
        print()
        print(f"total run time {time.perf_counter() - started:.1f} s; loadavg now "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        for proc in servers:
            stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)
        watchdog.cancel()
    return 0


if __name__ == "__main__":
    sys.exit(main())
