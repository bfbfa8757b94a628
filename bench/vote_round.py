"""How long a room's vote round takes to tally: N participants vote at once, over real HTTP.

Runs the app under gunicorn with several workers on loopback (state in the database, so any
worker serves any request), joins N participants, and for each decision point measures:
  - votes acknowledged: from the moment all N vote together until every vote has its answer;
  - tally complete: until the trainer's tally (the fragment the trainer's screen polls) shows N.
Compared in the same run with a bare Flask app answering the same number of concurrent POSTs.

    .venv/bin/python bench/vote_round.py [--participants 30] [--rounds 6] [--workers 4]
"""

from __future__ import annotations

import argparse
import html
import random
import http.cookiejar
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app_spec: str, env: dict, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--no-control-socket", "-w", str(workers), "--threads", "4", "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", app_spec], cwd=ROOT, env={**os.environ, **env})
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/healthz" if "guide" in app_spec else base + "/", timeout=1)
            return process, base
        except Exception:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{app_spec} did not start")


def browser_like(opener):
    """A second opener sharing the first one's cookies (a second tab of the same browser)."""
    jar = next(h.cookiejar for h in opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor))
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def browser():
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def together(count: int, action) -> float:
    """Run action(i) in `count` threads released at the same instant; seconds until all returned."""
    barrier, errors = threading.Barrier(count + 1), []

    def run(i):
        barrier.wait()
        try:
            action(i)
        except Exception as exc:  # noqa: BLE001 - report, don't hide
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - began


POLLED = re.compile(r'id="session-(?:live|panel)" hx-get="([^"]+)"\s*(?:hx-trigger="every (\d+(?:\.\d+)?)(ms|s)")?')


class Poller(threading.Thread):
    """Polls a page part as the page's htmx does: the URL and interval the page names, each answer
    naming the next URL (with the version it now has). Counts answers by status."""

    def __init__(self, opener, base: str, page: str, stop: threading.Event, on_body=None):
        super().__init__(daemon=True)
        found = POLLED.search(page)
        self.opener, self.base, self.stop_event, self.on_body = opener, base, stop, on_body
        self.url = html.unescape(found.group(1))
        self.interval = float(found.group(2) or 2) / (1000 if found.group(3) == "ms" else 1)
        self.statuses: dict[int, int] = {}
        self.busy = 0.0

    def run(self):
        self.stop_event.wait(random.uniform(0, self.interval))  # people did not open the page at the same instant
        while not self.stop_event.is_set():
            began = time.perf_counter()
            try:
                response = self.opener.open(self.base + self.url, timeout=30)
                status, body = response.status, response.read().decode()
            except urllib.error.HTTPError as error:
                status, body = error.code, ""
            except OSError:  # refused, reset or timed out: counted, and the page polls on
                status, body = -1, ""
            self.busy += time.perf_counter() - began
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 200:
                found = POLLED.search(body)
                if found:
                    self.url = html.unescape(found.group(1))
                if self.on_body:
                    self.on_body(body)
            self.stop_event.wait(self.interval)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    from guide.db import make_engine, make_sessionmaker, migrate
    from guide.accounts.users import create_user
    from guide.crypto import KeyRing, new_key

    workdir = Path(tempfile.mkdtemp(prefix="guide-vote-bench-"))
    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    key = new_key()
    migrate(url, KeyRing([key]))
    with make_sessionmaker(make_engine(url, KeyRing([key])))() as db:
        create_user(db, email="trainer@bench.test", name="Bench Trainer", role="trainer", agency="Bench",
                    password="bench-password-123")
        db.commit()
    env = {"DATABASE_URL": url, "SECRET_KEY": "bench-secret", "GUIDE_ENCRYPTION_KEYS": key}
    guide, base = serve("guide:create_app()", env, args.workers)
    bare, bare_base = serve("bench.bare_app:app", {}, args.workers)
    try:
        trainer = browser()
        page = trainer.open(base + "/sign-in").read().decode()
        trainer.open(base + "/sign-in", urllib.parse.urlencode({
            "email": "trainer@bench.test", "password": "bench-password-123", "csrf_token": CSRF.search(page).group(1)}).encode())
        page = trainer.open(base + "/training").read().decode()
        cases = re.findall(r'name="cases" type="checkbox" value="([a-z0-9_]+)"', page)
        response = trainer.open(base + "/training", urllib.parse.urlencode(
            [("csrf_token", CSRF.search(page).group(1))] + [("cases", c) for c in cases[:3]]).encode())
        control_url = response.geturl()
        session_id = control_url.rsplit("/", 1)[1]
        page = response.read().decode()
        code = re.search(r'app-join-code">([A-Z0-9]+)<', page).group(1)

        people = []
        for number in range(args.participants):
            person = browser()
            join_page = person.open(f"{base}/join?code={code}").read().decode()
            csrf = CSRF.search(join_page).group(1)
            person.open(base + "/join", urllib.parse.urlencode({"code": code, "name": f"P{number}", "csrf_token": csrf}).encode())
            people.append((person, csrf))

        def move(action):
            page = trainer.open(control_url).read().decode()
            state = re.search(r'name="state" value="([a-z]+)"', page).group(1)
            step = re.search(r'name="step" value="(\d+)"', page).group(1)
            trainer.open(f"{base}/training/sessions/{session_id}/move", urllib.parse.urlencode({
                "action": action, "state": state, "step": step, "csrf_token": CSRF.search(page).group(1)}).encode())
            return int(step)

        move("start")
        # Everyone's page polls as it does in a room: each participant's panel, the trainer's tally.
        stop = threading.Event()
        seen_all = {}

        def trainer_saw(body):
            if f"Votes: {args.participants}<" in body:
                seen_all.setdefault(round_number, time.perf_counter())

        round_number = -1
        pollers = [Poller(person, base, person.open(f"{base}/join/{code}").read().decode(), stop)
                   for person, _ in people]
        trainer_poller = Poller(browser_like(trainer), base, trainer.open(control_url).read().decode(), stop, trainer_saw)
        for poller in pollers + [trainer_poller]:
            poller.start()
        acknowledged, tallied, after_last_vote = [], [], []
        for round_number in range(args.rounds):  # noqa: B007 (trainer_saw reads it)
            page = people[0][0].open(f"{base}/join/{code}").read().decode()
            values = re.findall(r'name="vote" type="radio" value="([a-z0-9_]+)"', page)
            step = int(re.search(r'name="step" value="(\d+)"', page).group(1))
            began = time.perf_counter()

            def vote(i):
                person, csrf = people[i]
                person.open(f"{base}/join/{code}/vote", urllib.parse.urlencode(
                    {"vote": values[i % len(values)], "step": step, "csrf_token": csrf}).encode()).read()

            acknowledged.append(together(args.participants, vote))
            last_vote = time.perf_counter()
            # The trainer's screen shows the tally when its own poll brings all the votes.
            deadline = last_vote + 30
            while round_number not in seen_all and time.perf_counter() < deadline:
                time.sleep(0.005)
            seen = seen_all.get(round_number, float("inf"))
            tallied.append(seen - began)
            after_last_vote.append(seen - last_vote)
            move("reveal")
            if round_number + 1 < args.rounds:
                move("next")

        stop.set()
        for poller in pollers + [trainer_poller]:
            poller.join(35)
        polls = {}
        for poller in pollers:
            for status, count in poller.statuses.items():
                polls[status] = polls.get(status, 0) + count
        bare_client = [browser() for _ in range(args.participants)]
        bare_times = [together(args.participants, lambda i: bare_client[i].open(bare_base + "/vote", b"vote=yes").read())
                      for _ in range(args.rounds)]
    finally:
        guide.terminate()
        bare.terminate()
        guide.wait(10)
        bare.wait(10)

    ms = lambda xs: f"p50 {statistics.median(xs) * 1000:7.1f} ms   max {max(xs) * 1000:7.1f} ms"  # noqa: E731
    print(f"Vote round: {args.participants} participants voting at once, {args.rounds} rounds, "
          f"gunicorn {args.workers} workers x 4 threads, SQLite (WAL), loopback; {os.cpu_count()} CPUs")
    print(f"  all votes acknowledged      {ms(acknowledged)}")
    print(f"  trainer's tally shows all   {ms(tallied)}")
    print(f"  bare Flask, same POSTs      {ms(bare_times)}")
    print(f"  ratio (tally / bare)        p50 {statistics.median(tallied) / statistics.median(bare_times):.1f}x")
    print(f"  tally on the trainer's screen after the last vote acknowledged: {ms(after_last_vote)}")
    print(f"  polling: participants' panels every {pollers[0].interval:g} s -> {polls} "
          f"(mean {1000 * sum(p.busy for p in pollers) / max(1, sum(polls.values())):.1f} ms each); "
          f"trainer's tally every {trainer_poller.interval:g} s -> {trainer_poller.statuses}")
    worst = max(after_last_vote)
    print(f"Goal: {args.participants} participants see the tally within 1 s of the last vote: "
          f"{'MET' if worst <= 1.0 else 'NOT MET'} (worst round {worst * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
