"""What a burst of parallel sign-ins costs the server's memory, with and without the hashing cap.

N attempts at once (distinct unknown emails, one address) go to the guide served in one process
(werkzeug, threaded, production argon2id parameters: 64 MiB a hash). Run twice, each in a fresh
process: with GUIDE_PASSWORD_HASHING_AT_ONCE at its default (2) and with it at N (no cap: the
baseline). Prints each run's peak resident memory and how many attempts were checked (400) or
throttled (429), and the ratio of the two peaks.

    .venv/bin/python bench/sign_in_burst.py            # 24 attempts
    .venv/bin/python bench/sign_in_burst.py --attempts 40
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one_run(attempts: int) -> dict:
    import requests
    from werkzeug.serving import make_server

    from guide import create_app
    from guide.db import migrate

    folder = Path(tempfile.mkdtemp(prefix="guide-bench-signin-"))
    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    migrate(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "ENCRYPTION_KEYS": None})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = threading.Barrier(attempts)

    def attempt(n: int) -> int:
        http = requests.Session()
        token = http.get(f"{base}/sign-in").text.split('name="csrf_token" value="')[1].split('"')[0]
        start.wait()
        return http.post(f"{base}/sign-in", data={"csrf_token": token, "email": f"nobody{n}@example.org",
                                                   "password": "a wrong password here"}, allow_redirects=False).status_code

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        statuses = list(pool.map(attempt, range(attempts)))
    server.shutdown()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rss_before_mib": before / 1024, "rss_peak_mib": peak / 1024,
            "checked": statuses.count(400), "throttled": statuses.count(429), "other": len(statuses) - statuses.count(400) - statuses.count(429)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=24)
    parser.add_argument("--one-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_run:
        print(json.dumps(one_run(args.attempts)))
        return
    results = {}
    for label, at_once in (("no cap (baseline)", str(args.attempts)), ("cap (default 2)", "2")):
        env = {**os.environ, "GUIDE_PASSWORD_HASHING_AT_ONCE": at_once}
        env.pop("GUIDE_CHEAP_PASSWORD_HASHING", None)
        output = subprocess.run([sys.executable, __file__, "--one-run", "--attempts", str(args.attempts)], env=env,
                                cwd=ROOT, capture_output=True, text=True, check=True).stdout
        results[label] = json.loads(output.strip().splitlines()[-1])
    print(f"{args.attempts} parallel sign-in attempts, production argon2id (64 MiB a hash), one process")
    for label, row in results.items():
        print(f"  {label:18} peak RSS {row['rss_peak_mib']:7.0f} MiB (idle {row['rss_before_mib']:.0f} MiB); "
              f"checked {row['checked']}, throttled {row['throttled']}, other {row['other']}")
    base, capped = results["no cap (baseline)"], results["cap (default 2)"]
    growth = lambda row: row["rss_peak_mib"] - row["rss_before_mib"]  # noqa: E731
    print(f"  memory the burst added: {growth(base):.0f} MiB without the cap, {growth(capped):.0f} MiB with it "
          f"({growth(capped) / max(growth(base), 1):.2f}x)")


if __name__ == "__main__":
    main()
