"""What each kind of request in a practitioner's decision costs the server in CPU, in-process.

The load benchmark (load_walks.py) measures throughput with gunicorn, a load generator and the
machine's other work all sharing the cores, so its bare-Flask baseline moves a lot between runs.
This one takes the server's side alone: one thread walks the `confidentiality` flowchart as the load
benchmark's practitioners do (start, random answers the page offers, the outcome page, the record
saved from it, the saved page) through the Flask test client, and times each request by the CPU
time of this thread (thread_time: the app's work, not waiting for the disk). A bare Flask app's
GET and POST, timed the same way in the same run, are the baseline.

    .venv/bin/python bench/request_costs.py               # 200 walks, about 30 s
    .venv/bin/python bench/request_costs.py --walks 60    # a quick look

It prints, for each kind of request, the median and mean CPU time and its ratio to the bare
request of the same method, and the mean over the mix of requests the walks made (which is what a
server's throughput is made of). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from werkzeug.datastructures import MultiDict

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO))

from bench_servers import bare_app, guide_app  # noqa: E402
from load_walks import FLOWCHART, SAVED_PAGE, WALK_PAGE, Practitioner, offered  # noqa: E402
from step_latency import TOKEN, GuideWalker, InProcess, make_database  # noqa: E402

KINDS = ("start walk POST", "question GET", "question POST", "outcome GET", "record save POST", "saved GET")


class Walker:
    """One practitioner, signed in, walking and recording; each request timed by this thread's CPU time."""

    def __init__(self, client: InProcess, seed: int):
        self.client = client
        self.token = GuideWalker(client).token
        self.rng = random.Random(seed)
        self.number, self.serial = 1, 0
        self.cpu: dict[str, list[int]] = defaultdict(list)

    def _timed(self, kind: str, request):
        started = time.thread_time_ns()
        result = request()
        self.cpu[kind].append(time.thread_time_ns() - started)
        return result

    def _page(self, kind: str, path: str) -> str:
        status, page = self._timed(kind, lambda: self.client.get(path))
        assert status == 200, (kind, path, status)
        self.token = TOKEN.search(page).group(1)
        return page

    def walk(self) -> None:
        status, location = self._timed("start walk POST", lambda: self.client.post(
            f"/flowcharts/{FLOWCHART}/start", {"csrf_token": self.token}))
        at = WALK_PAGE.match(location or "")
        assert status == 303 and at, (status, location)
        walk_id = at.group(1)
        page = self._page("question GET", location)
        while True:
            form = {"answer": self.rng.choice(offered(page)["answer"]), "csrf_token": self.token}
            status, location = self._timed("question POST", lambda: self.client.post(
                f"/walks/{walk_id}/{at.group(2)}", form))
            assert status == 303, status
            if location.endswith("/outcome"):
                page = self._page("outcome GET", location)
                break
            at = WALK_PAGE.match(location)
            page = self._page("question GET", location)
        form = MultiDict(Practitioner.record_form(self, page))
        status, location = self._timed("record save POST", lambda: self.client.post(f"/walks/{walk_id}/record", form))
        assert status == 303 and SAVED_PAGE.match(location or ""), (status, location)
        self._page("saved GET", location)


def bare_costs(repeats: int) -> dict[str, list[int]]:
    client = InProcess(bare_app())
    requests = {"bare GET": lambda: client.get("/bare/w1/q"),
                "bare POST": lambda: client.post("/bare/w1/q", {"answer": "yes", "next": "r", "csrf_token": "x"})}
    cpu = {name: [] for name in requests}
    for _ in range(repeats):
        for name, request in requests.items():
            started = time.thread_time_ns()
            request()
            cpu[name].append(time.thread_time_ns() - started)
    return cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--walks", type=int, default=200, help="timed walks, each to a saved record (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed walks first (default 20)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="guide-costs-"))
    try:
        url = make_database(tmp, "costs.sqlite3")
        walker = Walker(InProcess(guide_app(url, "bench-secret", str(REPO / "content"))), args.seed)
        for _ in range(args.warmup):
            walker.walk()
        walker.cpu.clear()
        bare = bare_costs(200)
        for _ in range(args.walks):
            walker.walk()
        bare_after = bare_costs(200)  # before and after the walks, so drift hits both
        for name, samples in bare_after.items():
            bare[name] += samples
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    base = {name: statistics.median(samples) / 1e6 for name, samples in bare.items()}
    print("== server CPU per request, in-process (this thread's CPU time; Flask test client) ==")
    print(f"{args.walks} walks of {FLOWCHART} to a saved record, random answers; bare Flask baseline in the same run")
    print(f"  {'request':<18} {'count':>6} {'median':>8} {'mean':>8}   median / bare of the same method")
    for kind in KINDS:
        samples = walker.cpu[kind]
        median, mean = statistics.median(samples) / 1e6, statistics.mean(samples) / 1e6
        method = "bare POST" if kind.endswith("POST") else "bare GET"
        print(f"  {kind:<18} {len(samples):>6} {median:>8.3f} {mean:>8.3f}   {median / base[method]:5.1f}× {method}")
    for name, median in base.items():
        print(f"  {name:<18} {len(bare[name]):>6} {median:>8.3f}")
    every = [sample for kind in KINDS for sample in walker.cpu[kind]]
    mean = statistics.mean(every) / 1e6
    bare_mean = statistics.mean(base.values())
    print(f"  mean over the mix: {mean:.3f} ms a request ({len(every) / args.walks:.1f} requests a walk), "
          f"{mean / bare_mean:.1f}× the bare requests' {bare_mean:.3f} ms; "
          f"1/3 of bare Flask's throughput needs about {3 * bare_mean:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
