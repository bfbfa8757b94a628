"""How long a practitioner waits between questions, against a bare Flask app doing the same round trip.

ONE STEP = POST an answer to the current question (303) + GET the page it redirects to.
Many fresh walks go through a fixed 13-answer path of the `confidentiality` flowchart;
the same number of steps go through a bare Flask app with the same shape (POST, 303, GET).
Both are measured in-process (Flask test client) and over HTTP on 127.0.0.1 (gunicorn,
one gthread worker with one thread, keep-alive client). The engine alone
(FlowMachine.replay) is timed too, to show how much of a step it is.

    .venv/bin/python bench/step_latency.py              # default: 1200 steps per row, under 2 minutes
    .venv/bin/python bench/step_latency.py --steps 240  # a quick look (about 20 s)
    .venv/bin/python bench/step_latency.py --profile    # also cProfile the in-process guide step

The goals it reports on (from the issue; reported, not asserted):
  - a step costs no more than 3x a bare Flask step (ratio of p50s; p99 ratio shown too);
  - a step's p99 stays under 10 ms in-process.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import math
import os
import platform
import pstats
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from measure import (OverHttp, cpu_model, filesystem_of, percentile, print_profile, start_gunicorn,  # noqa: E402  (bench/)
                     stats_ms, stop, version)

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO))

from bench_servers import bare_app, durable_app, guarantees_app, guide_app  # noqa: E402

FLOWCHART = "confidentiality"
# purpose → … → public_interest → share_without_consent_public_interest: consent refused,
# no statutory duty, significant harm, public interest.
PATH = [
    ("purpose", "yes"),
    ("identifiable", "yes"),
    ("confidential", "yes"),
    ("consent", "refused"),
    ("consent_who", "yes"),
    ("statutory", "no"),
    ("harm_threshold", "yes"),
    ("public_interest", "yes"),
]
EXPECTED_OUTCOME = "share_without_consent_public_interest"
EMAIL, PASSWORD = "bench@example.org", "step timing passphrase 2026"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
GOAL_RATIO, GOAL_P99_MS = 3.0, 10.0
UNCACHED = "guide step, fragment cache off"
DURABLE = "bare Flask + durable commit"
GUARANTEES = "bare Flask + the guarantees by hand"
GUARANTEES_CORE = "  the same through SQLAlchemy"


# --------------------------------------------------------------------------- clients

class InProcess:
    """Flask's test client: no sockets, no server; cookies kept by the client."""

    def __init__(self, app):
        self.http = app.test_client()
        self.connections = 0

    def post(self, path: str, form: dict) -> tuple[int, str | None]:
        response = self.http.post(path, data=form)
        response.get_data()
        return response.status_code, response.headers.get("Location")

    def get(self, path: str) -> tuple[int, str]:
        response = self.http.get(path)
        return response.status_code, response.get_data(as_text=True)


# --------------------------------------------------------------------------- walkers

def record_step(out: dict[str, list[int]], index: int, location: str, t0: int, t1: int, t2: int, cpu: int) -> None:
    """Keep one timed step (POST at t0, its 303 at t1, the next page read at t2): a question step, or the
    last one (to the outcome) in its own row. Every walker's redirect must go where the path goes next."""
    if index < len(PATH) - 1:
        assert location.endswith(f"/{PATH[index + 1][0]}"), (PATH[index], location)
        out["step"].append(t2 - t0)
        out["cpu"].append(cpu)
        out["post"].append(t1 - t0)
        out["get"].append(t2 - t1)
    else:
        assert location.endswith("/outcome"), location
        out["final"].append(t2 - t0)


class GuideWalker:
    """Signs in once, then walks fresh walks through PATH; each step is timed."""

    name = "guide step"

    def __init__(self, client):
        self.client = client
        self.token = None
        status, page = client.get("/sign-in")
        assert status == 200, status
        self.token = TOKEN.search(page).group(1)
        status, location = client.post("/sign-in", {"email": EMAIL, "password": PASSWORD, "csrf_token": self.token})
        assert status == 303, f"sign-in failed: {status}"
        self._get(location)

    def _get(self, path: str) -> str:
        status, page = self.client.get(path)
        assert status == 200, (path, status)
        found = TOKEN.search(page)
        if found:
            self.token = found.group(1)
        return page

    def walk(self, out: dict[str, list[int]]) -> None:
        # Starting a walk is not a step: not timed.
        status, location = self.client.post(f"/flowcharts/{FLOWCHART}/start", {"csrf_token": self.token})
        assert status == 303, status
        walk_id = location.split("/")[2]
        self._get(location)
        clock, cpu = time.perf_counter_ns, time.thread_time_ns
        for index, (question, value) in enumerate(PATH):
            c0, t0 = cpu(), clock()
            status, location = self.client.post(f"/walks/{walk_id}/{question}",
                                                 {"answer": value, "csrf_token": self.token})
            t1 = clock()
            status2, page = self.client.get(location)
            t2, c2 = clock(), cpu()
            assert status == 303 and status2 == 200, (question, status, location, status2)
            self.token = TOKEN.search(page).group(1)
            record_step(out, index, location, t0, t1, t2, c2 - c0)


class BareWalker:
    """The bare Flask baseline: the same number of POST+303+GET steps per walk."""

    name = "bare Flask step"

    def __init__(self, client, name: str | None = None):
        self.client = client
        self.count = 0
        self.name = name or self.name

    def walk(self, out: dict[str, list[int]]) -> None:
        self.count += 1
        walk_id = f"w{self.count}"
        clock, cpu = time.perf_counter_ns, time.thread_time_ns
        names = [q for q, _ in PATH] + ["outcome"]
        for index, (question, value) in enumerate(PATH):
            c0, t0 = cpu(), clock()
            status, location = self.client.post(f"/bare/{walk_id}/{question}",
                                                {"answer": value, "next": names[index + 1], "csrf_token": "bare-token"})
            t1 = clock()
            status2, page = self.client.get(location)
            t2, c2 = clock(), cpu()
            assert status == 303 and status2 == 200 and "csrf_token" in page, (status, location, status2)
            record_step(out, index, location, t0, t1, t2, c2 - c0)


class GuaranteesWalker(BareWalker):
    """The bare app with the guide's guarantees written by hand (bench_servers.guarantees_app): signs in once,
    starts each walk (not timed), then takes the same steps as the guide, with the page's form token."""

    name = GUARANTEES

    def __init__(self, client, name: str = GUARANTEES):
        super().__init__(client, name)
        status, _ = client.post("/bare/sign-in", {})
        assert status == 303, status

    def walk(self, out: dict[str, list[int]]) -> None:
        status, location = self.client.post("/bare/start", {})
        assert status == 303, status
        status, page = self.client.get(location)
        token = TOKEN.search(page).group(1)
        walk_id = location.split("/")[2]
        clock, cpu = time.perf_counter_ns, time.thread_time_ns
        for index, (question, value) in enumerate(PATH):
            c0, t0 = cpu(), clock()
            status, location = self.client.post(f"/bare/{walk_id}/{question}", {"answer": value, "csrf_token": token})
            t1 = clock()
            status2, page = self.client.get(location)
            t2, c2 = clock(), cpu()
            assert status == 303 and status2 == 200 and token in page, (question, status, location, status2)
            record_step(out, index, location, t0, t1, t2, c2 - c0)


def samples() -> dict[str, list[int]]:
    """Nanoseconds: whole question steps, their POST and GET halves, the final step (to the outcome),
    and the CPU time this thread spent on each question step (in-process: the app's work; over HTTP: the client's)."""
    return {"step": [], "post": [], "get": [], "final": [], "cpu": []}


def run_interleaved(walkers, walks: int, warmup_walks: int) -> dict[str, dict[str, list[int]]]:
    """Alternate walks between the walkers, so drift (CPU clock, caches, the database growing) hits both alike."""
    for _ in range(warmup_walks):
        for walker in walkers:
            walker.walk(samples())
    results = {walker.name: samples() for walker in walkers}
    for _ in range(walks):
        for walker in walkers:
            walker.walk(results[walker.name])
    return results


# --------------------------------------------------------------------------- setup

def make_database(directory: Path, name: str) -> str:
    from guide.db import migrate
    from guide.accounts.users import create_user

    url = f"sqlite:///{directory / name}"
    migrate(url)
    app = guide_app(url, "bench-secret", str(REPO / "content"))
    with app.app_context():
        session = app.extensions["db_sessions"]()
        create_user(session, email=EMAIL, name="Bench Practitioner", role="practitioner",
                    agency="Northshire Health", team="Health visiting", job_title="Health visitor", password=PASSWORD)
        session.commit()
        session.close()
    app.extensions["db_engine"].dispose()
    return url


# --------------------------------------------------------------------------- engine alone

def time_engine(repeats: int) -> dict:
    """A replay through the transitions machine at every depth of PATH, uncached.

    FlowMachine.replay remembers positions by their answers, so within a step only the
    first replay at a new set of answers walks the machine; this times that walk
    (FlowMachine._replay), the cost of a cache miss.
    """
    from guide.guidance import Guidance

    guidance = Guidance.load(REPO / "content")
    machine = guidance.machines[FLOWCHART]
    full = dict(PATH)
    position = machine.replay(full)
    assert position.outcome is not None and position.outcome.id == EXPECTED_OUTCOME, position
    clock = time.perf_counter_ns
    per_depth = []
    for depth in range(len(PATH) + 1):
        answers = dict(PATH[:depth])
        for _ in range(50):
            machine._replay(answers)
        samples = []
        for _ in range(repeats):
            t0 = clock()
            machine._replay(answers)
            samples.append(clock() - t0)
        per_depth.append(samples)
    medians = [percentile(s, 50) for s in per_depth]
    # Step k (answering PATH[k]): POST replays depth k twice (view, answer()) and k+1 once (after);
    # the GET that follows replays depth k+1 once.
    per_step = [2 * medians[k] + 2 * medians[k + 1] for k in range(len(PATH) - 1)]
    return {"full": per_depth[-1], "per_step_p50": sum(per_step) / len(per_step), "medians": medians}


# --------------------------------------------------------------------------- reporting





def row(label: str, samples: list[int]) -> str:
    s = stats_ms(samples)
    return (f"  {label:<34} {s['n']:>6} {s['p50']:>8.3f} {s['p90']:>8.3f} {s['p99']:>8.3f} "
            f"{s['max']:>8.3f} {s['mean']:>8.3f}")








def sqlite_modes(url: str) -> tuple[str, str]:
    from guide.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(
            conn.exec_driver_sql("PRAGMA synchronous").scalar(), "?")
    engine.dispose()
    return journal, synchronous


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1200,
                        help="timed question steps per row (default 1200; walks = steps / 12)")
    parser.add_argument("--warmup", type=int, default=15, help="untimed warm-up walks per app and mode (default 15)")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP measurements")
    parser.add_argument("--profile", action="store_true", help="cProfile the in-process guide step afterwards")
    parser.add_argument("--no-uncached", action="store_true",
                        help="skip the in-process row with the fragment cache off")
    parser.add_argument("--db-dir", type=Path, default=None, help="where the temporary databases go (default: system temp)")
    args = parser.parse_args()

    per_walk = len(PATH) - 1
    walks = max(1, math.ceil(args.steps / per_walk))
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="guide-bench-", dir=args.db_dir))
    procs = []
    try:
        inproc_url = make_database(tmp, "inprocess.sqlite3")
        http_url = None if args.no_http else make_database(tmp, "http.sqlite3")
        journal, synchronous = sqlite_modes(inproc_url)

        print("== guide step latency benchmark ==")
        print(f"python       {platform.python_version()} ({platform.python_implementation()}) on {platform.platform()}")
        affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
        print(f"cpu          {cpu_model()}; cpu_count={os.cpu_count()} usable={affinity}; "
              f"loadavg={' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"packages     flask {version('flask')}, werkzeug {version('werkzeug')}, jinja2 {version('jinja2')}, "
              f"sqlalchemy {version('sqlalchemy')}, transitions {version('transitions')}, "
              f"gunicorn {version('gunicorn')}; sqlite {sqlite3.sqlite_version}")
        print(f"database     SQLite journal_mode={journal} synchronous={synchronous}, "
              f"files in {tmp} ({filesystem_of(tmp)})")
        print(f"path         {FLOWCHART}: " + " → ".join(f"{q}={a}" for q, a in PATH) + f" → {EXPECTED_OUTCOME}")
        print(f"run          {walks} walks × {per_walk} question steps = {walks * per_walk} timed steps per row "
              f"(+ {walks} final steps to the outcome); {args.warmup} warm-up walks per app and mode; "
              "guide and bare walks interleaved")
        print(flush=True)

        results = {}

        # ---- in-process
        app = guide_app(inproc_url, "bench-secret", str(REPO / "content"))
        guide_inproc = GuideWalker(InProcess(app))
        bare_inproc = BareWalker(InProcess(bare_app()))
        # The durability floor: the bare app whose POST durably commits one row (same SQLite settings).
        durable_inproc = BareWalker(InProcess(durable_app(str(tmp / "durable-inprocess.sqlite3"))), DURABLE)
        # What a step must do, written by hand on raw sqlite3 (bench_servers.guarantees_app): the rest is how.
        by_hand_inproc = GuaranteesWalker(InProcess(guarantees_app(str(tmp / "guarantees-inprocess.sqlite3"), FLOWCHART)))
        # …and the same statements through a SQLAlchemy Connection's thinnest path: the least SQLAlchemy adds.
        by_hand_core = GuaranteesWalker(InProcess(guarantees_app(str(tmp / "guarantees-core.sqlite3"), FLOWCHART,
                                                                 via="sqlalchemy")), GUARANTEES_CORE)
        walkers = [guide_inproc, bare_inproc, durable_inproc, by_hand_inproc, by_hand_core]
        if not args.no_uncached:
            # The same app with its fragment cache off (guide/fragments.py): what the cache saves, in the same run.
            uncached = GuideWalker(InProcess(guide_app(inproc_url, "bench-secret", str(REPO / "content"),
                                                       CACHE_FRAGMENTS=False)))
            uncached.name = UNCACHED
            walkers.append(uncached)
        results["in-process"] = run_interleaved(walkers, walks, args.warmup)
        print(f"[in-process done at {time.perf_counter() - started:.1f}s]", flush=True)

        # ---- over HTTP (gunicorn, loopback)
        if not args.no_http:
            env = {"BENCH_DATABASE_URL": http_url, "BENCH_SECRET_KEY": "bench-secret",
                   "BENCH_CONTENT_DIR": str(REPO / "content"), "PYTHONPATH": os.pathsep.join([str(BENCH), str(REPO)]),
                   "BENCH_DURABLE_PATH": str(tmp / "durable-http.sqlite3")}
            guide_proc, guide_port = start_gunicorn("bench_servers:guide_app()", env)
            procs.append(guide_proc)
            bare_proc, bare_port = start_gunicorn("bench_servers:bare_app()", env)
            procs.append(bare_proc)
            durable_proc, durable_port = start_gunicorn("bench_servers:durable_app()", env)
            procs.append(durable_proc)
            guide_client, bare_client, durable_client = OverHttp(guide_port), OverHttp(bare_port), OverHttp(durable_port)
            guide_http = GuideWalker(guide_client)
            bare_http = BareWalker(bare_client)
            durable_http = BareWalker(durable_client, DURABLE)
            results["HTTP"] = run_interleaved([guide_http, bare_http, durable_http], walks, args.warmup)
            connections = (guide_client.connections, bare_client.connections, durable_client.connections)
            for client in (guide_client, bare_client, durable_client):
                client.close()
            print(f"[HTTP done at {time.perf_counter() - started:.1f}s; TCP connections opened: "
                  f"guide {connections[0]}, bare {connections[1]}, bare + durable commit {connections[2]}]", flush=True)

        # ---- engine alone
        engine = time_engine(repeats=500)
        print(f"[engine done at {time.perf_counter() - started:.1f}s]", flush=True)
        print()

        # ---- table
        print("Step latency (ms): ONE STEP = POST answer (303) + GET the page it redirects to")
        print(f"  {'':<34} {'count':>6} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8} {'mean':>8}")
        for mode, by_app in results.items():
            print(f" {mode}")
            for name, got in by_app.items():
                print(row(name, got["step"]))
                print(row("  of which POST answer → 303", got["post"]))
                print(row("  of which GET next question", got["get"]))
            print(row("guide final step (→ outcome)", by_app["guide step"]["final"]))
        print(" engine alone")
        print(row("FlowMachine.replay, full path", engine["full"]))
        print(f"  replay p50 by depth 0..{len(PATH)} (µs): "
              + " ".join(f"{m / 1e3:.0f}" for m in engine["medians"]))
        print()

        print("Ratios guide / bare (question steps)")
        verdicts = []
        for mode, by_app in results.items():
            g, b = stats_ms(by_app["guide step"]["step"]), stats_ms(by_app["bare Flask step"]["step"])
            r50, r99 = g["p50"] / b["p50"], g["p99"] / b["p99"]
            print(f"  {mode:<11} p50 {g['p50']:.3f} / {b['p50']:.3f} = {r50:5.1f}×    "
                  f"p99 {g['p99']:.3f} / {b['p99']:.3f} = {r99:5.1f}×    "
                  f"extra per step at p50: {g['p50'] - b['p50']:.3f} ms")
            verdicts.append((f"step ≤ {GOAL_RATIO:g}× bare Flask, {mode} (p50 ratio {r50:.1f}×)", r50 <= GOAL_RATIO))
            verdicts.append((f"step ≤ {GOAL_RATIO:g}× bare Flask, {mode} (p99 ratio {r99:.1f}×)", r99 <= GOAL_RATIO))
        print("Against the durability floor: bare Flask + one durable SQLite commit of a row (not the goal's baseline)")
        for mode, by_app in results.items():
            g, b = stats_ms(by_app["guide step"]["step"]), stats_ms(by_app["bare Flask step"]["step"])
            d = stats_ms(by_app[DURABLE]["step"])
            print(f"  {mode:<11} p50 {g['p50']:.3f} / {d['p50']:.3f} = {g['p50'] / d['p50']:5.1f}×    "
                  f"p99 {g['p99']:.3f} / {d['p99']:.3f} = {g['p99'] / d['p99']:5.1f}×    "
                  f"of the guide's extra {g['p50'] - b['p50']:.3f} ms over bare at p50: durability "
                  f"{d['p50'] - b['p50']:.3f} ms, the guide's own overhead {g['p50'] - d['p50']:.3f} ms")
        by_hand, bare_in = results["in-process"][GUARANTEES], results["in-process"]["bare Flask step"]
        h, b, g = stats_ms(by_hand["step"]), stats_ms(bare_in["step"]), stats_ms(results["in-process"]["guide step"]["step"])
        print("Against the guarantees written by hand: bare Flask doing what a step must (the session and its user read "
              "by the id's hash and opened, the form token checked, the walk read and replayed, its answers written "
              "encrypted with the revision checked, an audit event chained and encrypted, one durable commit, a signed "
              "checkpoint; the next page kept whole), on raw sqlite3 with no ORM, template engine or Flask extension")
        print(f"  in-process  by hand p50 {h['p50']:.3f} ms = {h['p50'] / b['p50']:.1f}× bare; the guide "
              f"{g['p50']:.3f} / {h['p50']:.3f} = {g['p50'] / h['p50']:.1f}× the same work by hand; of the guide's "
              f"extra {g['p50'] - b['p50']:.3f} ms over bare: what a step must do {h['p50'] - b['p50']:.3f} ms, "
              f"how the guide does it {g['p50'] - h['p50']:.3f} ms")
        c = stats_ms(results["in-process"][GUARANTEES_CORE]["step"])
        print(f"  in-process  the same by hand through SQLAlchemy (exec_driver_sql, no ORM) p50 {c['p50']:.3f} ms = "
              f"{c['p50'] / b['p50']:.1f}× bare; the guide {g['p50'] / c['p50']:.1f}× that")
        room = [(f"the guarantees by hand on raw sqlite3, in-process: {h['p50'] / b['p50']:.1f}× bare", h["p50"] / b["p50"]),
                (f"the same through SQLAlchemy's thinnest path (exec_driver_sql, no ORM): {c['p50'] / b['p50']:.1f}× bare",
                 c["p50"] / b["p50"])]
        cpu_in = {name: stats_ms(got["cpu"]) for name, got in results["in-process"].items()}
        print("  CPU per step, in-process (this thread's CPU time, p50; waiting for the disk is not CPU, and other "
              "processes on the machine move it much less than wall-clock time): "
              + ", ".join(f"{name} {c['p50']:.3f} ms" for name, c in cpu_in.items())
              + f"; guide / bare {cpu_in['guide step']['p50'] / cpu_in['bare Flask step']['p50']:.1f}×")
        if UNCACHED in results["in-process"]:
            u, b = stats_ms(results["in-process"][UNCACHED]["step"]), stats_ms(results["in-process"]["bare Flask step"]["step"])
            g = stats_ms(results["in-process"]["guide step"]["step"])
            print(f"  fragment cache: in-process p50 {u['p50']:.3f} ms without it ({u['p50'] / b['p50']:.1f}× bare), "
                  f"{g['p50']:.3f} ms with it: {u['p50'] - g['p50']:.3f} ms saved a step "
                  f"(GET half {stats_ms(results['in-process'][UNCACHED]['get'])['p50']:.3f} → "
                  f"{stats_ms(results['in-process']['guide step']['get'])['p50']:.3f} ms)")
        g_in = stats_ms(results["in-process"]["guide step"]["step"])
        engine_share = engine["per_step_p50"] / 1e6 / g_in["p50"]
        print(f"  engine: at most ~4 uncached replays per step ≈ {engine['per_step_p50'] / 1e6:.3f} ms "
              f"= {engine_share:.1%} of the in-process guide step p50")
        verdicts.insert(0, (f"step p99 < {GOAL_P99_MS:g} ms in-process (p99 {g_in['p99']:.3f} ms)",
                            g_in["p99"] < GOAL_P99_MS))
        print()
        print("Goals (reported, not asserted)")
        for text, met in verdicts:
            print(f"  [{'MET' if met else 'NOT MET':>7}] {text}")
        print(f"What the {GOAL_RATIO:g}× goal leaves room for (p50, in-process; not goals): a step doing only what it must")
        for text, ratio in room:
            print(f"  [{'within' if ratio <= GOAL_RATIO else 'over':>7}] {text}")
        print()
        print(f"total run time {time.perf_counter() - started:.1f}s; loadavg now "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} (other work on the machine shifts absolute "
              "times; the guide/bare ratios, measured interleaved, move much less)")

        if args.profile:
            profile_guide_step(app, walks=max(20, walks // 4))
    finally:
        for proc in procs:
            stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def profile_guide_step(app, walks: int) -> None:
    """cProfile in-process guide walks (13 of their 15 requests are steps). cProfile inflates Python-heavy code."""
    walker = GuideWalker(InProcess(app))
    for _ in range(5):
        walker.walk(samples())
    profiler = cProfile.Profile()
    gc.collect()
    profiler.enable()
    for _ in range(walks):
        walker.walk(samples())
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    print(f"\n== cProfile: {walks} in-process guide walks, {total:.2f}s profiled "
          f"({total / (walks * len(PATH)) * 1e3:.1f} ms per step under the profiler) ==")
    print_profile(profiler, REPO, top=25, own=25)


if __name__ == "__main__":
    sys.exit(main())
