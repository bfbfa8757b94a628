"""Streaming a CSV export of many decision records: rows per second and memory growth.

    .venv/bin/python bench/export_csv.py [--records 1000000]

Fills a fresh SQLite database with synthetic decision records (one agency, made-up
details), then in the same run measures:
  - baseline: reading the same rows with a plain SELECT, nothing written;
  - the export: the records officer's CSV generator (guide.records.export_formats.csv_rows), consumed to /dev/null.
Memory is the process's resident size before the export and its highest value sampled during
it, so flat memory shows as a small growth however many records. Goal (issue 5): over 50,000 rows/s, growth under 50 MB.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GUIDE_CHEAP_PASSWORD_HASHING", "1")

from sqlalchemy import func, insert, select, text  # noqa: E402

from guide.crypto import KeyRing, bound_rows, new_key  # noqa: E402
from guide.db import make_engine, make_sessionmaker, migrate  # noqa: E402
from guide.records.export_formats import csv_line  # noqa: E402
from guide.models import ContentVersion, DecisionRecord, User, Walk  # noqa: E402
from guide.records.visibility import RecordFilter  # noqa: E402
from guide.accounts.users import create_user  # noqa: E402


def rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def fill(engine, keyring: KeyRing, count: int, user_id: int) -> float:
    """Records as the app saves them: encrypted details, the reference's blind index, the CSV line."""
    started = time.perf_counter()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    body = {"author": {"name": "Bench Officer", "email": "bench@example.org", "role": "practitioner", "job_title": "Nurse",
                       "agency": "Bench", "team": "Team A"},
            "flowchart": {"id": "confidentiality", "title": "Should I share information?"},
            "outcome": {"id": "do_not_share_no_purpose", "title": "Do not share", "decision": "do_not_share",
                        "decision_label": "Do not share", "cite": "WTD App3 §4.2", "body": "", "next_flowchart": ""},
            "answers": [{"question_id": "purpose", "question": "Is there a legitimate purpose?", "cite": "WTD App3 §4.2",
                         "answer": "no", "answer_label": "No", "reason": "No purpose.", "key": True}],
            "details": {"subject_ref": "", "consent_position": "refused", "advice_sought": "no", "notes": "",
                        "consent_note": "", "advice_from": "", "other_practitioners": ""}}
    with engine.begin() as connection:
        connection.execute(insert(ContentVersion), [{"version": "bench", "files": {}, "first_seen_at": now}])
    batch = 20000
    for start in range(0, count, batch):
        walks, records = [], []
        for n in range(start, min(count, start + batch)):
            walk_id = uuid.uuid4().hex
            walks.append({"id": walk_id, "user_id": user_id, "flowchart_id": "confidentiality", "content_version": "bench",
                          "answers": {"purpose": "no"}, "revision": 1, "created_at": now, "updated_at": now})
            subject = f"CHILD-{n % 50000}"
            record = {"id": uuid.uuid4().hex, "reference": f"DR-{n:012d}", "version": 1, "walk_id": walk_id,
                      "author_id": user_id, "agency": "Bench", "team": "Team A", "supersedes_id": None,
                      "created_at": now - timedelta(minutes=n), "flowchart_id": "confidentiality",
                      "content_version": "bench", "subject_ref": subject, "subject_key": keyring.blind_index(subject.casefold()),
                      "outcome_id": "do_not_share_no_purpose", "decision": "do_not_share", "consent_position": "refused",
                      "body": {**body, "details": {**body["details"], "subject_ref": subject}}, "correction_reason": ""}
            record["csv_row"] = csv_line(SimpleNamespace(**record))
            records.append(record)
        with engine.begin() as connection:
            connection.execute(insert(Walk), bound_rows(Walk.__table__, walks))  # each value sealed to its row
            connection.execute(insert(DecisionRecord), bound_rows(DecisionRecord.__table__, records))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="keep the filled database (and its key, beside it) here, and "
                                                "reuse it on the next run instead of filling again")
    args = parser.parse_args()
    path = args.db or Path(tempfile.mkdtemp(prefix="guide-export-bench-")) / "export.sqlite3"
    key_file = path.with_suffix(".key")
    reuse = path.exists() and key_file.exists()
    url = f"sqlite:///{path}"
    key = key_file.read_text() if reuse else new_key()
    keyring = KeyRing([key])
    engine = make_engine(url, keyring)
    sessions = make_sessionmaker(engine)
    if reuse:
        with sessions() as db:
            officer_id = db.scalar(select(User.id).where(User.role == "records_officer"))
            count = db.scalar(select(func.count()).select_from(DecisionRecord))
        print(f"reused      {count:,} decision records in {path}")
    else:
        migrate(url, keyring)
        with sessions() as db:
            officer = create_user(db, email="bench@example.org", name="Bench Officer", role="records_officer",
                                  agency="Bench", password="records officer passphrase 2026")
            db.commit()
            officer_id = officer.id
        took = fill(engine, keyring, args.records, officer_id)
        key_file.write_text(key)
        print(f"filled      {args.records:,} decision records in {took:.1f}s "
              f"({args.records / took:,.0f}/s); database {os.path.getsize(path) / 1e6:,.0f} MB")

    with engine.connect() as connection:
        started = time.perf_counter()
        rows = 0
        for _ in connection.execution_options(yield_per=1000).execute(text("SELECT * FROM decision_records")):
            rows += 1
        baseline = time.perf_counter() - started
    print(f"baseline    plain SELECT of every row: {rows:,} rows in {baseline:.1f}s = {rows / baseline:,.0f} rows/s")

    from flask import Flask
    from guide.records.export_formats import csv_rows
    app = Flask(__name__)
    import threading
    before, peak_seen, done = rss_mb(), [0.0], threading.Event()

    def watch():  # the export's own peak, sampled
        while not done.is_set():
            peak_seen[0] = max(peak_seen[0], rss_mb())
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    with app.app_context(), sessions() as db, open(os.devnull, "w") as sink:
        officer = db.get(User, officer_id)
        started = time.perf_counter()
        written = 0
        for chunk in csv_rows(db, officer, RecordFilter()):
            sink.write(chunk)
            written += chunk.count("\n")
        export = time.perf_counter() - started
    done.set()
    watcher.join()
    peak = peak_seen[0]
    rows_out = written - 1
    print(f"export      CSV of {rows_out:,} records in {export:.1f}s = {rows_out / export:,.0f} rows/s "
          f"({export / baseline:.1f}× the plain SELECT)")
    print(f"memory      resident {before:,.0f} MB before the export, {peak:,.0f} MB at its peak during it: "
          f"growth {peak - before:,.0f} MB")
    print(f"goals       >50,000 rows/s: {'MET' if rows_out / export > 50000 else 'NOT MET'}; "
          f"growth <50 MB: {'MET' if peak - before < 50 else 'NOT MET'}")


if __name__ == "__main__":
    main()
