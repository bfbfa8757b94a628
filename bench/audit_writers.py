"""Audited writes from 8 processes at once on PostgreSQL: parallel keyed chains against one queue.

Each writer process appends, as fast as it can for --seconds, alternately
  - an index look-up's audit entry (guide/index/audit.py: append, with the hourly rate limit
    counted inside the same locked step, as IndexService.lookup does), and
  - a decision-records event committed through an ORM session (guide/audit.py: sealed into its
    chain in the same transaction, as every page that audits does),
each for one of 64 users (so a writer's users spread over the chains).

Two designs, measured in the same run on fresh databases of the same server:
  parallel     the default: GUIDE_AUDIT_CHAINS=16 chains per trail, a writer locks only its chain's head;
  one queue    GUIDE_AUDIT_CHAINS=1: every audited write in the country takes the same head row lock in
               turn, as every write took the one advisory lock (records) or raced for the one chain end
               (index) before. (The index chain used to retry on a unique hash and fail after 50 tries;
               here nothing retries, so a busy chain makes a writer wait, never fail.)

It prints, per design: writes per second, latency p50/p99 per kind, errors (any exception is an
error: a look-up whose audit failed would be one), and that both trails verify afterwards; then the
ratio parallel / one queue.

    bash scripts/with-postgres .venv/bin/python bench/audit_writers.py            # 8 writers, 15 s each
    bash scripts/with-postgres .venv/bin/python bench/audit_writers.py --writers 8 --seconds 30

Needs TEST_POSTGRES_URL (scripts/with-postgres sets it: a throwaway cluster on loopback) or
--database-url (a server where it may create databases).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

USERS = 64


def _create_database(server: str) -> str:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    name = f"guide_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def _drop_database(server: str, url: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    admin.dispose()


def _engine(url: str, key: str, audit_key: str, folder: str, chains: int):
    os.environ["GUIDE_AUDIT_CHAINS"] = str(chains)
    from guide.audit_chain import attach_audit, make_audit_setup
    from guide.crypto import KeyRing
    from guide.db import make_engine, make_sessionmaker
    engine = make_engine(url, KeyRing([key]))
    attach_audit(engine, make_audit_setup(Path(folder), url, audit_key, folder + "/checkpoints"))
    return engine, make_sessionmaker(engine)


def _writer(n: int, url: str, key: str, audit_key: str, folder: str, chains: int, seconds: float, user_ids,
            start_at: float, results) -> None:
    from datetime import timedelta

    from guide.audit import audit
    from guide.index.audit import Limit, LimitReached, append
    from guide.models import utcnow
    engine, sessions = _engine(url, key, audit_key, folder, chains)
    mine = [user_ids[i] for i in range(n, len(user_ids), int(os.environ["BENCH_WRITERS"]))]
    lookups, events, errors, i = [], [], [], 0
    while time.time() < start_at:
        time.sleep(0.001)
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        user = mine[i % len(mine)]
        began = time.perf_counter()
        try:
            if i % 2 == 0:
                append(engine, user_id=user, action="lookup", child_id=None, reason="assessment",
                       reason_text="Benchmark look-up, made up.", detail={"criteria": {"upn": "B000000000000"}},
                       limit=Limit("lookup", utcnow() - timedelta(hours=1), 10 ** 9, "rate limit"))
                lookups.append(time.perf_counter() - began)
            else:
                session = sessions()
                try:
                    audit(session, user, "bench.write", "bench", str(i), n=n)
                    session.commit()
                finally:
                    session.close()
                events.append(time.perf_counter() - began)
        except LimitReached:
            errors.append("limit")
        except Exception as error:  # noqa: BLE001  (every failure counts, whatever it is)
            errors.append(f"{type(error).__name__}: {error}"[:200])
        i += 1
    engine.dispose()
    results.put((n, lookups, events, errors))


def run(server: str, writers: int, seconds: float, chains: int) -> dict:
    from guide.accounts.users import create_user
    from guide.crypto import new_key
    from guide.db import migrate
    from guide.crypto import KeyRing
    import base64
    url = _create_database(server)
    folder = tempfile.mkdtemp(prefix="guide-audit-bench-")
    key, audit_key = new_key(), base64.urlsafe_b64encode(os.urandom(32)).decode()
    try:
        migrate(url, KeyRing([key]))
        engine, sessions = _engine(url, key, audit_key, folder, chains)
        session = sessions()
        users = [create_user(session, email=f"writer{n}@bench.example", name=f"Writer {n}", role="practitioner",
                             agency=f"Agency {n % 8}", password="a long enough password") for n in range(USERS)]
        session.commit()
        user_ids = [u.id for u in users]
        session.close()
        os.environ["BENCH_WRITERS"] = str(writers)
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        start_at = time.time() + 3.0  # every process imported and connected before the clock starts
        processes = [context.Process(target=_writer, args=(n, url, key, audit_key, folder, chains, seconds, user_ids,
                                                           start_at, results)) for n in range(writers)]
        for process in processes:
            process.start()
        collected = [results.get(timeout=seconds + 120) for _ in processes]
        for process in processes:
            process.join(30)
        from guide.audit import verify as verify_records
        from guide.index.audit import verify as verify_index
        records, index = verify_records(engine), verify_index(engine)
        engine.dispose()
    finally:
        _drop_database(server, url)
    lookups = [t for _, lk, _, _ in collected for t in lk]
    events = [t for _, _, ev, _ in collected for t in ev]
    errors = [e for _, _, _, errs in collected for e in errs]
    return {"writes": len(lookups) + len(events), "per_second": (len(lookups) + len(events)) / seconds,
            "lookups": lookups, "events": events, "errors": errors, "records": records, "index": index}


def _ms(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--chains", type=int, default=16, help="chains per trail in the parallel design")
    parser.add_argument("--database-url", default=os.environ.get("TEST_POSTGRES_URL"))
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith("postgresql"):
        sys.exit("Needs PostgreSQL: run under scripts/with-postgres, or give --database-url")
    print(f"{args.writers} writer processes, {args.seconds:.0f} s each design, PostgreSQL; "
          f"{os.cpu_count()} CPUs on this machine; load average {os.getloadavg()[0]:.1f} at the start")
    figures = {}
    for name, chains in (("one queue", 1), ("parallel", args.chains)):
        result = figures[name] = run(args.database_url, args.writers, args.seconds, chains)
        print(f"\n{name} ({chains} chain{'s' if chains > 1 else ''} per trail):")
        print(f"  {result['writes']} audited writes, {result['per_second']:.0f} per second")
        print(f"  index look-up audit  p50 {_ms(result['lookups'], .5):.2f} ms  p99 {_ms(result['lookups'], .99):.2f} ms"
              f"  ({len(result['lookups'])})")
        print(f"  records event commit p50 {_ms(result['events'], .5):.2f} ms  p99 {_ms(result['events'], .99):.2f} ms"
              f"  ({len(result['events'])})")
        print(f"  errors: {len(result['errors'])}" + (f" (first: {result['errors'][0]})" if result["errors"] else ""))
        print(f"  records trail: {result['records'][0]} events, "
              f"{'intact' if result['records'][1] is None else 'BROKEN: ' + result['records'][2]}; "
              f"index trail: {result['index'][0]} entries, "
              f"{'intact' if result['index'][1] is None else 'BROKEN: ' + result['index'][2]}")
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end (a busy machine slows both designs alike)")
    ratio = figures["parallel"]["per_second"] / figures["one queue"]["per_second"]
    p99 = _ms(figures["one queue"]["lookups"], .99) / _ms(figures["parallel"]["lookups"], .99)
    print(f"\nparallel / one queue: {ratio:.2f}x the throughput; look-up audit p99 {p99:.2f}x lower")
    print(f"errors: parallel {len(figures['parallel']['errors'])}, one queue {len(figures['one queue']['errors'])}")


if __name__ == "__main__":
    main()
