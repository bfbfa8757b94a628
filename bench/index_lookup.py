"""How long a look-up on the children's index takes at scale, against the bare query it runs.

A SQLite database is migrated and filled with synthetic children (guide/index/synthetic.py:
made up, no real people), timing the load. Then, for N children picked at random, each is
looked up by name + date of birth and by unique number (UPN), four ways, interleaved in a
random order per child so no way always finds the pages warm:

  sqlite3 alone      the SQL the service sends, on a raw sqlite3 cursor (the rows come back still encrypted);
  floor              what an audited look-up cannot do without: that raw query plus one durable append
                     (a raw sqlite3 INSERT of an audit-sized row and its COMMIT, with the app's journal and
                     synchronous settings, in the same database file);
  (a) direct query   the same SELECT the service runs (select(IndexChild) ... LIMIT 2, matching the
                     blind index of the number, or of names + date of birth), built and executed with
                     SQLAlchemy Core on one connection, the rows decrypted by the column types;
  (b) service        IndexService.lookup: validation, the rate-limit count, the query through the
                     ORM session, and the hash-chained audit entry in its own transaction;
  (c) HTTP request   POST /index through the real app, in-process (Flask test client: sign-in
                     session, CSRF, form parsing, the look-up, the 303 to the record). --no-http skips it.
  by hand            what an audited look-up must do however it is built, written by hand with no ORM
                     (class ByHand): the details checked, the blind index worked out, the query; then in one
                     durable transaction the chain's head taken, the user's hour counted (no further than the
                     limit), the entry's keyed hash, the entry inserted into a table with the audit table's
                     own indexes, its reason and detail encrypted (AES-GCM, bound to the row), the head moved;
                     then the signed checkpoint written outside the database. Twice: straight to sqlite3, and
                     through SQLAlchemy's thinnest path (exec_driver_sql, nothing compiled), the least the
                     standards' "a real database through SQLAlchemy" allows. What is left between this and
                     (b) is the cost of how the guide does it, not of what it does.

    .venv/bin/python bench/index_lookup.py                     # 1,000,000 children, 2,000 look-ups
    .venv/bin/python bench/index_lookup.py --children 100000   # a quick look
    .venv/bin/python bench/index_lookup.py --national          # 11,000,000 children: a long load (~40 min), ~16 GB of disk
    .venv/bin/python bench/index_lookup.py --profile           # also cProfile the service's look-ups

The database file is kept (default /tmp/guide-index-bench-<children>.sqlite3) and reused by the
next run if it already holds that many children; --db chooses another file.

The service refuses more than `lookups_per_hour` look-ups per user (30 in content/index_policy.yaml).
The look-ups rotate over enough new designated users that none reaches it, so the real limit is kept and
the hour's count (which stops at the limit) costs what it does in production. With `--users` set lower,
the rule is raised in memory instead (the YAML is never touched), and the output says so.

The goals it reports on (from the issue; reported, not asserted):
  - a look-up's p99 is within 2x of the floor (raw query + one durable append) at 11 million children
    (issue 13: (b) and (c) against the floor);
  - earlier goals, still shown: p99 under 10 ms; no more than 3x the direct query ((b) to (a)).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import math
import os
import platform
import pstats
import random
import re
import sqlite3
import sys
import time
from datetime import timedelta
from pathlib import Path

from bench_servers import DURABLE_PRAGMAS, _RawStatements, _SqlAlchemyStatements, checkpoint_by_hand  # noqa: E402  (bench/)
from measure import cpu_model, filesystem_of, percentile, print_profile, stats_ms, version  # noqa: E402  (bench/)

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import event, func, select  # noqa: E402

from guide.crypto import NORMALISERS, keyring_of, load_keyring  # noqa: E402
from guide.db import make_engine, make_sessionmaker, migrate  # noqa: E402
from guide.index import audit  # noqa: E402
from guide.index.policy import load_policy  # noqa: E402
from guide.index.service import IndexService, LookupRequest, Refused, _naive  # noqa: E402
from guide.index.synthetic import generate, sample_lookups  # noqa: E402
from guide.models import IndexAudit, IndexChild, User, utcnow  # noqa: E402
from guide.accounts.users import create_user  # noqa: E402

NATIONAL = 11_000_000
GOAL_P99_MS, GOAL_RATIO, GOAL_AT = 10.0, 3.0, NATIONAL
GOAL_FLOOR_RATIO = 2.0  # issue 13: p99 within 2x of raw query + one durable append
PASSWORD = "bench password 2026 long enough"
REASON = "new_to_service"
REASON_TEXT = "Benchmark: a child new to my service, who else is involved?"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
MODES = ("name", "upn")
MODE_LABEL = {"name": "by name + date of birth", "upn": "by unique number (UPN)"}
WAYS = ("raw", "floor", "hand-raw", "hand", "direct", "service", "http")


# --------------------------------------------------------------------------- the ways of looking up

def blind_keys(keyring, mode: str, child: dict) -> list[str]:
    """What the service matches: the blind index of the number, or of names + date of birth, under every key."""
    if mode == "upn":
        return keyring.blind_indexes(NORMALISERS["upn"](child["upn"]))
    return keyring.blind_indexes(NORMALISERS["identity"](child["family_name"], child["given_name"],
                                                         child["dob"].isoformat()))


def direct_statement(keyring, mode: str, child: dict):
    """The SELECT IndexService.lookup builds (service.py, through guide.crypto.blind_match), for the same criteria."""
    column = IndexChild.upn_key if mode == "upn" else IndexChild.identity_key
    return select(IndexChild).where(column.in_(blind_keys(keyring, mode, child))).limit(2)


def request_for(mode: str, child: dict) -> LookupRequest:
    if mode == "upn":
        return LookupRequest(upn=child["upn"], reason=REASON, reason_text=REASON_TEXT)
    return LookupRequest(family_name=child["family_name"], given_name=child["given_name"], dob=child["dob"],
                         reason=REASON, reason_text=REASON_TEXT)


class ByHand:
    """An audited look-up's required work written by hand (see the module's docstring), on its own tables."""

    def __init__(self, path: str, keyring, via: str):
        import hashlib

        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.db = {"sqlite3": _RawStatements, "sqlalchemy": _SqlAlchemyStatements}[via](path)
        self.keyring = keyring
        self.aead = AESGCM(hashlib.sha256(b"by hand encryption").digest())
        self.mac_key = hashlib.sha256(b"by hand audit").digest()
        self.checkpoint = Path(f"{path}.by-hand-{via}.checkpoint")
        # The audit table's own columns, constraints and indexes, under other names: an insert costs what one
        # into index_audit does, without touching its chains.
        schema = sqlite3.connect(path)
        for (ddl,) in schema.execute("SELECT sql FROM sqlite_master WHERE tbl_name = 'index_audit' AND sql IS NOT NULL "
                                     "ORDER BY type = 'index'").fetchall():
            ddl = re.sub(r"\bCREATE (TABLE|INDEX)(?! IF NOT EXISTS)", r"CREATE \1 IF NOT EXISTS", ddl)
            schema.execute(ddl.replace("index_audit", f"by_hand_audit_{via}"))
        schema.execute(f"CREATE TABLE IF NOT EXISTS by_hand_heads_{via} (chain INTEGER PRIMARY KEY, seq INTEGER NOT NULL, "
                       "hash TEXT NOT NULL)")
        schema.commit()
        schema.close()
        self.audit, self.heads = f"by_hand_audit_{via}", f"by_hand_heads_{via}"

    def seal(self, value, where: str) -> bytes:
        import json
        nonce = os.urandom(12)
        return nonce + self.aead.encrypt(nonce, json.dumps(value).encode(), where.encode())

    def lookup(self, request: LookupRequest, user_id: int, most: int) -> int | None:
        import hashlib
        import hmac
        import json

        from guide.index.service import UPN

        if not request.reason or len(request.reason_text.strip()) < 10:
            raise ValueError("no reason")
        upn = request.upn.strip().upper().replace(" ", "")
        if upn:
            if not UPN.match(upn):
                raise ValueError("bad number")
            column, keys, criteria = "upn_key", self.keyring.blind_indexes(NORMALISERS["upn"](upn)), {"upn": upn}
        else:
            family, given = request.family_name.strip(), request.given_name.strip()
            if not (family and given and request.dob):
                raise ValueError("not enough details")
            column = "identity_key"
            keys = self.keyring.blind_indexes(NORMALISERS["identity"](family, given, request.dob.isoformat()))
            criteria = {"family_name": family, "given_name": given, "dob": request.dob.isoformat()}
        marks = ", ".join(f":k{n}" for n in range(len(keys)))
        found = [row[0] for row in self.db.run(f"SELECT id FROM index_children WHERE {column} IN ({marks}) LIMIT 2",
                                               {f"k{n}": key for n, key in enumerate(keys)}).fetchall()]
        child_id = found[0] if len(found) == 1 else None
        detail = {"criteria": criteria, "found": {0: "none", 1: "one"}.get(len(found), "several")}
        chain = user_id % 16
        db = self.db
        db.begin()
        try:
            seq, prev = db.run(f"INSERT INTO {self.heads} VALUES (:chain, 0, :genesis) ON CONFLICT (chain) DO UPDATE "
                               "SET seq = seq RETURNING seq, hash", {"chain": chain, "genesis": f"genesis {chain}"}).fetchone()
            at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
            since = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() - 3600))
            count = db.run(f"SELECT count(*) FROM (SELECT id FROM {self.audit} WHERE user_id = :user AND action IN "
                           "('lookup') AND at >= :since LIMIT :most)", {"user": user_id, "since": since, "most": most}
                           ).fetchone()[0]
            action = "lookup" if count < most else "refused"
            seq += 1
            digest = hmac.new(self.mac_key, json.dumps([chain, seq, prev, at, user_id, action, child_id, request.reason,
                                                         request.reason_text, detail]).encode(), hashlib.sha256).hexdigest()
            entry = db.run(f"INSERT INTO {self.audit} (at, user_id, action, child_id, reason, reason_text, detail, "
                           "prev_hash, hash, chain, seq) VALUES (:at, :user, :action, :child, :reason, '', '', :prev, "
                           ":hash, :chain, :seq)", {"at": at, "user": user_id, "action": action, "child": child_id,
                                                    "reason": request.reason, "prev": prev, "hash": digest,
                                                    "chain": chain, "seq": seq}).lastrowid
            db.run(f"UPDATE {self.audit} SET reason_text = :text, detail = :detail WHERE id = :id",
                   {"text": self.seal(request.reason_text, f"audit:{entry}"),
                    "detail": self.seal(detail, f"audit:{entry}"), "id": entry})
            db.run(f"UPDATE {self.heads} SET seq = :seq, hash = :hash WHERE chain = :chain",
                   {"seq": seq, "hash": digest, "chain": chain})
            db.commit()
        except BaseException:
            db.rollback()
            raise
        checkpoint_by_hand(self.checkpoint, self.mac_key, chain, seq, digest)
        if action == "refused":
            raise ValueError("limit reached")
        return child_id


class Ways:
    """Each way of looking a child up, timed; outcomes counted."""

    def __init__(self, engine, policy, user_ids: list[int], app=None):
        self.engine, self.policy, self.user_ids = engine, policy, user_ids
        self.keyring = keyring_of(engine.dialect)
        self.turns = {}
        self.sessions = make_sessionmaker(engine)
        self.connection = engine.connect()
        self.raw = sqlite3.connect(engine.url.database, check_same_thread=False)
        self.sql = {
            "name": "SELECT * FROM index_children WHERE identity_key IN (?) LIMIT 2",
            "upn": "SELECT * FROM index_children WHERE upn_key IN (?) LIMIT 2",
        }
        # The floor's durable append: its own connection with the app's settings, its own table.
        self.floor_db = sqlite3.connect(engine.url.database, timeout=30, isolation_level=None, check_same_thread=False)
        for pragma in DURABLE_PRAGMAS:
            self.floor_db.execute(pragma)
        self.floor_db.execute("CREATE TABLE IF NOT EXISTS bench_floor_appends (id INTEGER PRIMARY KEY, at TEXT NOT NULL, "
                              "user_id INTEGER NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL)")
        self.floor_detail = "x" * 240  # about an encrypted audit detail's size
        self.by_hand = {"hand-raw": ByHand(engine.url.database, self.keyring, "sqlite3"),
                        "hand": ByHand(engine.url.database, self.keyring, "sqlalchemy")}
        self.samples = {(way, mode): [] for way in WAYS for mode in MODES}
        self.outcomes = {mode: {"one": 0, "several": 0, "none": 0} for mode in MODES}
        self.http = HttpLookup(app) if app is not None else None

    def next_user(self, way: str) -> int:
        """Each way's look-ups go round the users in turn, so none reaches the hour's limit."""
        self.turns[way] = self.turns.get(way, 0) + 1
        return self.user_ids[self.turns[way] % len(self.user_ids)]

    def close(self):
        self.connection.close()
        self.raw.close()
        self.floor_db.close()

    def floor(self, mode: str, child: dict) -> int:
        """The raw query and one durable append: the least an audited look-up can cost."""
        params = tuple(blind_keys(self.keyring, mode, child))
        t0 = time.perf_counter_ns()
        rows = self.floor_db.execute(self.sql[mode], params).fetchall()
        self.floor_db.execute("BEGIN IMMEDIATE")
        self.floor_db.execute("INSERT INTO bench_floor_appends (at, user_id, action, detail) VALUES (?, ?, ?, ?)",
                              (time.time(), self.user_ids[0], "lookup", self.floor_detail))
        self.floor_db.execute("COMMIT")
        t1 = time.perf_counter_ns()
        assert rows, (mode, child)
        return t1 - t0

    def hand(self, way: str, mode: str, child: dict) -> int:
        request, user_id = request_for(mode, child), self.next_user(way)
        t0 = time.perf_counter_ns()
        self.by_hand[way].lookup(request, user_id, self.policy.rules["lookups_per_hour"])
        return time.perf_counter_ns() - t0

    def raw_query(self, mode: str, child: dict) -> int:
        params = tuple(blind_keys(self.keyring, mode, child))  # one key in the ring: one parameter
        t0 = time.perf_counter_ns()
        rows = self.raw.execute(self.sql[mode], params).fetchall()
        t1 = time.perf_counter_ns()
        assert rows, (mode, child)
        return t1 - t0

    def direct(self, mode: str, child: dict) -> int:
        t0 = time.perf_counter_ns()
        rows = self.connection.execute(direct_statement(self.keyring, mode, child)).all()
        t1 = time.perf_counter_ns()
        self.connection.rollback()  # no transaction was begun for a SELECT; this just ends SQLAlchemy's
        assert rows, (mode, child)
        return t1 - t0

    def service(self, mode: str, child: dict, count: bool = True) -> int:
        session = self.sessions()
        user = session.get(User, self.next_user("service"))  # loaded before the look-up, as in a request
        service = IndexService(session, self.engine, self.policy, user)
        request = request_for(mode, child)
        t0 = time.perf_counter_ns()
        try:
            found, _grant = service.lookup(request)
            outcome = "one" if found is not None else "none"
        except Refused as refused:
            assert "More than one" in refused.message, refused.message
            outcome = "several"
        t1 = time.perf_counter_ns()
        session.close()
        if count:
            self.outcomes[mode][outcome] += 1
        return t1 - t0

    def run(self, child: dict, rng: random.Random, record: bool = True) -> None:
        jobs = [(way, mode) for way in ("raw", "floor", "hand-raw", "hand", "direct", "service") for mode in MODES]
        if self.http:
            jobs += [("http", mode) for mode in MODES]
        rng.shuffle(jobs)
        for way, mode in jobs:
            if way == "raw":
                took = self.raw_query(mode, child)
            elif way == "floor":
                took = self.floor(mode, child)
            elif way in self.by_hand:
                took = self.hand(way, mode, child)
            elif way == "direct":
                took = self.direct(mode, child)
            elif way == "service":
                took = self.service(mode, child, count=record)
            else:
                took = self.http.lookup(mode, child)
            if record:
                self.samples[(way, mode)].append(took)


class HttpLookup:
    """POST /index through the real app, in-process: one signed-in client per benchmark user, in turn."""

    def __init__(self, app):
        self.clients = []
        for email in app.config["BENCH_EMAILS"]:
            client = app.test_client()
            token = self._token(client, "/sign-in")
            response = client.post("/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token})
            assert response.status_code == 303, response.status_code
            self.clients.append((client, self._token(client, "/index")))
        self.turn = 0

    @staticmethod
    def _token(client, path: str) -> str:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return TOKEN.search(response.get_data(as_text=True)).group(1)

    def lookup(self, mode: str, child: dict) -> int:
        self.turn += 1
        client, token = self.clients[self.turn % len(self.clients)]
        form = {"csrf_token": token, "reason": REASON, "reason_text": REASON_TEXT}
        if mode == "upn":
            form["upn"] = child["upn"]
        else:
            dob = child["dob"]
            form.update({"family_name": child["family_name"], "given_name": child["given_name"],
                         "dob-day": str(dob.day), "dob-month": str(dob.month), "dob-year": str(dob.year)})
        t0 = time.perf_counter_ns()
        response = client.post("/index", data=form)
        response.get_data()
        t1 = time.perf_counter_ns()
        # 303 to the record; 400 when more than one child matches (name + date of birth only).
        assert response.status_code == 303 or (mode == "name" and response.status_code == 400), response.status_code
        return t1 - t0


# --------------------------------------------------------------------------- setting up

def bench_keyring():
    """The app's own keys (GUIDE_ENCRYPTION_KEYS, or instance/encryption_key), so the app in (c) reads the same rows."""
    return load_keyring(REPO / "instance")


def prepare_database(path: Path, children: int, seed: int, batch: int) -> tuple[str, dict]:
    url = f"sqlite:///{path}"
    migrate(url, bench_keyring())
    engine = make_engine(url, bench_keyring())
    with engine.connect() as connection:
        existing = connection.scalar(select(func.count()).select_from(IndexChild))
    info = {"existing": existing, "added": 0, "seconds": 0.0}
    if existing < children:
        wanted = children - existing
        if wanted > 2_000_000:
            print(f"generating {wanted:,} children: this takes a while (roughly {wanted / 5_000 / 60:.0f}+ minutes) "
                  f"and about {wanted * 1_450 / 1e9:.1f} GB of disk", flush=True)
        started = time.perf_counter()
        step = max(batch, (wanted // 10) // batch * batch)

        def progress(done: int, total: int) -> None:
            if done % step == 0 or done == total:
                elapsed = time.perf_counter() - started
                print(f"  generated {done:>11,} / {total:,}  {elapsed:7.1f}s  {done / elapsed:9,.0f} children/s", flush=True)

        info["added"] = generate(engine, wanted, seed=seed + existing, batch=batch, progress=progress)
        info["seconds"] = time.perf_counter() - started
    engine.dispose()
    return url, info


def bench_users(engine, count: int) -> list[tuple[int, str]]:
    """New designated users for this run, so their look-ups in the last hour start from none."""
    session = make_sessionmaker(engine)()
    made = []
    for n in range(count):
        email = f"bench-index-{time.time_ns()}-{n}@example.org"
        user = create_user(session, email=email, name=f"Bench Index User {n}", role="practitioner",
                           agency="Northshire Benchmarks", password=PASSWORD, job_title="Benchmark")
        user.index_designation = "user"
        made.append(user)
    session.commit()
    result = [(user.id, user.email) for user in made]
    session.close()
    return result


def make_app(url: str, emails: list[str], lookups_per_hour: int):
    from guide import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret", "CONTENT_DIR": REPO / "content",
                      "BENCH_EMAILS": emails})
    app.extensions["guidance"].index_policy.rules["lookups_per_hour"] = lookups_per_hour
    return app


def captured_statements(engine, ways: Ways, child: dict, mode: str) -> list[tuple[str, tuple]]:
    """The SQL one service look-up sends, as sent."""
    seen = []

    def listen(_conn, _cursor, statement, parameters, _context, _executemany):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        ways.service(mode, child, count=False)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return seen


def query_plans(engine, ways: Ways, child: dict) -> None:
    print("EXPLAIN QUERY PLAN of the SELECTs one service look-up sends (SQL as sent; parameters of one child)")
    shown = set()
    for mode in MODES:
        for statement, parameters in captured_statements(engine, ways, child, mode):
            compact = " ".join(statement.split())
            if not compact.upper().startswith("SELECT") or compact in shown or "FROM users" in compact:
                continue  # the user is loaded by the request before the look-up
            shown.add(compact)
            if "FROM index_children" in compact:
                what = f"the child, {MODE_LABEL[mode]}"
            elif "count(" in compact.lower():
                what = "the rate-limit count (this user's look-ups in the last hour)"
            elif "index_audit" in compact:
                what = "the audit trail's last hash, to chain the new entry"
            else:
                what = "other"
            with engine.connect() as connection:
                plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            shortened = re.sub(r"SELECT .*? FROM", "SELECT … FROM", compact, count=1) if "index_children." in compact else compact
            print(f"  {what}:\n    {shortened}")
            for row in plan:
                note = ""
                if row[-1].startswith("SCAN") and re.search(r"ORDER BY \w+\.id DESC LIMIT", compact):
                    note = "   (rowid order, backwards, LIMIT 1: reads one row)"
                print(f"      → {row[-1]}{note}")
    print()


# --------------------------------------------------------------------------- parts of a look-up

def time_parts(engine, user_ids: list[int], children: list[dict], repeats: int) -> dict:
    """The service's steps one at a time, as it runs them (the audit entry uses its own action: 'bench')."""
    sessions = make_sessionmaker(engine)
    out = {"rate-limit count": [], "child query via the ORM session": [], "audit append (own transaction)": []}
    counted = 0
    for i in range(repeats):
        child, user_id = children[i % len(children)], user_ids[i % len(user_ids)]
        session = sessions()
        since = _naive(utcnow() - timedelta(hours=1))
        t0 = time.perf_counter_ns()
        counted = session.scalar(select(func.count()).select_from(IndexAudit).where(
            IndexAudit.user_id == user_id, IndexAudit.action == "lookup", IndexAudit.at >= since))
        t1 = time.perf_counter_ns()
        list(session.scalars(direct_statement(keyring_of(engine.dialect), "name", child)))
        t2 = time.perf_counter_ns()
        session.close()
        audit.append(engine, user_id=user_id, action="bench", child_id=child["id"], reason=REASON,
                     reason_text=REASON_TEXT, detail={"criteria": {"upn": child["upn"]}, "found": "one"})
        t3 = time.perf_counter_ns()
        out["rate-limit count"].append(t1 - t0)
        out["child query via the ORM session"].append(t2 - t1)
        out["audit append (own transaction)"].append(t3 - t2)
    out["counted"] = counted
    return out


def time_count_by_size(engine, user_id: int) -> list[tuple[int, float]]:
    """The rate-limit count's cost against how many look-ups the user has made in the last hour."""
    since = _naive(utcnow() - timedelta(hours=1))
    result = []
    with engine.connect() as connection:
        for _ in range(3):
            connection.execute(select(func.count()).select_from(IndexAudit).where(
                IndexAudit.user_id == user_id, IndexAudit.action == "lookup", IndexAudit.at >= since)).scalar()
        samples = []
        for _ in range(50):
            t0 = time.perf_counter_ns()
            counted = connection.execute(select(func.count()).select_from(IndexAudit).where(
                IndexAudit.user_id == user_id, IndexAudit.action == "lookup", IndexAudit.at >= since)).scalar()
            samples.append(time.perf_counter_ns() - t0)
        result.append((counted, percentile(samples, 50) / 1e6))
    return result


# --------------------------------------------------------------------------- reporting





def row(label: str, samples: list[int]) -> str:
    s = stats_ms(samples)
    return (f"  {label:<38} {s['n']:>6} {s['p50']:>8.3f} {s['p90']:>8.3f} {s['p99']:>8.3f} "
            f"{s['max']:>8.3f} {s['mean']:>8.3f}")








def disk_size(path: Path) -> str:
    sizes = {suffix: (Path(str(path) + suffix).stat().st_size if Path(str(path) + suffix).exists() else 0)
             for suffix in ("", "-wal", "-shm")}
    return (f"{sizes[''] / 1e6:,.0f} MB (+ WAL {sizes['-wal'] / 1e6:,.1f} MB); "
            f"{sizes[''] / 1e9:.2f} GB in all" if sizes["-wal"] < 1e8 else
            f"{sizes[''] / 1e6:,.0f} MB + WAL {sizes['-wal'] / 1e6:,.0f} MB")


def table_sizes(engine) -> str:
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT name, SUM(pgsize) FROM dbstat WHERE name LIKE '%index_children%' GROUP BY name "
                "ORDER BY 2 DESC").all()
        return ", ".join(f"{name} {size / 1e6:,.0f} MB" for name, size in rows)
    except Exception:  # dbstat is not compiled into every SQLite
        return "(dbstat not available)"


def profile_service(ways: Ways, children: list[dict]) -> None:
    """cProfile service look-ups (half by name, half by UPN). cProfile inflates Python-heavy code."""
    profiler = cProfile.Profile()
    gc.collect()
    profiler.enable()
    for i, child in enumerate(children):
        ways.service(MODES[i % 2], child, count=False)
    profiler.disable()
    total = pstats.Stats(profiler).total_tt
    print(f"\n== cProfile: {len(children)} IndexService.lookup calls, {total:.2f}s profiled "
          f"({total / len(children) * 1e3:.2f} ms per look-up under the profiler) ==")
    print_profile(profiler, REPO, top=22, own=15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--children", type=int, default=1_000_000, help="children in the index (default 1,000,000)")
    parser.add_argument("--national", action="store_true",
                        help=f"{NATIONAL:,} children, England's under-18s: a long load and ~16 GB of disk (encrypted values)")
    parser.add_argument("--lookups", type=int, default=2000, help="children looked up, each every way (default 2000)")
    parser.add_argument("--warmup", type=int, default=100, help="untimed look-ups first (default 100)")
    parser.add_argument("--db", type=Path, default=None,
                        help="the SQLite file (default /tmp/guide-index-bench-<children>.sqlite3); reused if it "
                             "already holds that many children")
    parser.add_argument("--users", type=int, default=0,
                        help="designated users the look-ups rotate over, for (b) and, as many again, for (c); default: "
                             "enough that none reaches the real hourly limit, which is then kept (fewer: the limit "
                             "is raised in memory so that nobody is refused)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=20000, help="children per insert transaction (default 20000)")
    parser.add_argument("--no-http", action="store_true", help="skip (c), the look-up as an HTTP request")
    parser.add_argument("--profile", action="store_true", help="cProfile the service's look-ups afterwards")
    args = parser.parse_args()
    children = NATIONAL if args.national else args.children
    path = args.db or Path(f"/tmp/guide-index-bench-{children}.sqlite3")
    started = time.perf_counter()

    print("== children's index look-up benchmark ==")
    print(f"python       {platform.python_version()} ({platform.python_implementation()}) on {platform.platform()}")
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"cpu          {cpu_model()}; cpu_count={os.cpu_count()} usable={affinity}; "
          f"loadavg={' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"packages     flask {version('flask')}, sqlalchemy {version('sqlalchemy')}; sqlite {sqlite3.sqlite_version}")
    print(f"database     {path} ({filesystem_of(path.parent)})", flush=True)
    if args.national:
        print(f"--national: {NATIONAL:,} children. Generating them takes a while and several GB of disk "
              "(reused next time).", flush=True)

    url, info = prepare_database(path, children, args.seed, args.batch)
    engine = make_engine(url, bench_keyring())
    with engine.connect() as connection:
        total = connection.scalar(select(func.count()).select_from(IndexChild))
        journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(
            connection.exec_driver_sql("PRAGMA synchronous").scalar(), "?")
        audit_entries = connection.scalar(select(func.count()).select_from(IndexAudit))
    if info["added"]:
        print(f"generated    {info['added']:,} children in {info['seconds']:.1f}s = {info['added'] / info['seconds']:,.0f} "
              f"children/s (batches of {args.batch:,}; bulk load with synchronous=OFF on its own connection)")
    else:
        print(f"reused       {info['existing']:,} children already in {path.name} (no generation this run)")
    print(f"size         {total:,} children; file {disk_size(path)}")
    print(f"             {table_sizes(engine)}")
    print(f"app sqlite   journal_mode={journal} synchronous={synchronous} (every audit entry is a durable commit); "
          f"{audit_entries:,} audit entries before this run")

    policy = load_policy(REPO / "content")
    limit = policy.rules["lookups_per_hour"]
    # Each way looks every child up by name and by number; a few more look-ups show the query plans. With
    # enough users none reaches the real limit, so the hour's count stops at it, as it does in production.
    per_user = max(1, limit - 2)
    enough = math.ceil((2 * (args.lookups + args.warmup) + 2 * len(MODES) + 4) / per_user)
    per_way = args.users or enough
    who = (f"(b)'s look-ups rotate over {per_way} new designated users" if per_way > 1
           else "one new designated user makes all of (b)'s look-ups") + ("" if args.no_http else ", (c)'s over as many others")
    if per_way >= enough:
        print(f"rate limit   the real lookups_per_hour ({limit}) kept: {who}, so that none reaches it "
              f"(at most {math.ceil((2 * (args.lookups + args.warmup)) / per_way)} each) and the hour's count stops at the limit, as in production")
    else:
        policy.rules["lookups_per_hour"] = 10**9
        print(f"rate limit   lookups_per_hour raised in memory from {limit} to {policy.rules['lookups_per_hour']:,} for this "
              f"run (content/index_policy.yaml untouched), so that nobody is refused: {who}; the hour's count then "
              "reads every look-up a user made (in production it stops at the limit)")
    users = bench_users(engine, per_way * (1 if args.no_http else 2))
    user_ids, http_emails = [u for u, _ in users[:per_way]], [e for _, e in users[per_way:]]
    user_id = user_ids[0]

    app = None if args.no_http else make_app(url, http_emails, policy.rules["lookups_per_hour"])
    ways = Ways(engine, policy, user_ids, app)
    picked = sample_lookups(engine, args.lookups + args.warmup, seed=args.seed + 1000)
    warm, timed = picked[:args.warmup], picked[args.warmup:]
    print(f"run          {len(timed):,} children picked at random (+{len(warm)} warm-up), each looked up by name + "
          f"date of birth and by UPN, every way, in a random order per child; all in one process", flush=True)
    print()

    query_plans(engine, ways, timed[0])

    rng = random.Random(args.seed)
    for child in warm:
        ways.run(child, rng, record=False)
    count_before = time_count_by_size(engine, user_id)
    t0 = time.perf_counter()
    for index, child in enumerate(timed, 1):
        ways.run(child, rng)
        if index % max(1, len(timed) // 4) == 0:
            print(f"[{index:,} / {len(timed):,} children looked up, {time.perf_counter() - t0:.1f}s]", flush=True)
    count_after = time_count_by_size(engine, user_id)
    parts = time_parts(engine, user_ids, timed, repeats=min(500, len(timed)))
    print()

    print("Look-up latency (ms)")
    print(f"  {'':<38} {'count':>6} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8} {'mean':>8}")
    labels = {"raw": "sqlite3 alone (same SQL)", "floor": "floor: raw query + durable append",
              "hand-raw": "by hand, raw sqlite3", "hand": "by hand, through SQLAlchemy",
              "direct": "(a) direct query, SQLAlchemy Core",
              "service": "(b) IndexService.lookup", "http": "(c) POST /index, in-process"}
    for mode in MODES:
        print(f" {MODE_LABEL[mode]}")
        for way, label in labels.items():
            if ways.samples[(way, mode)]:
                print(row(label, ways.samples[(way, mode)]))
    print(" the service's steps, one at a time")
    for name in ("rate-limit count", "child query via the ORM session", "audit append (own transaction)"):
        print(row(name, parts[name]))
    print()
    for mode in MODES:
        o = ways.outcomes[mode]
        print(f"  service outcomes {MODE_LABEL[mode]}: {o['one']:,} found one, {o['several']:,} 'more than one child "
              f"matches' (refused, audited), {o['none']:,} none")
    print(f"  rate-limit count p50: {count_before[0][1]:.3f} ms counting {count_before[0][0]:,} look-ups in the last hour "
          f"(after warm-up), {count_after[0][1]:.3f} ms counting {count_after[0][0]:,} (at the end)")
    print()

    print("Ratios (b) service / (a) direct query")
    verdicts = []
    for mode in MODES:
        a, b = stats_ms(ways.samples[("direct", mode)]), stats_ms(ways.samples[("service", mode)])
        r50, r99 = b["p50"] / a["p50"], b["p99"] / a["p99"]
        print(f"  {MODE_LABEL[mode]:<26} p50 {b['p50']:.3f} / {a['p50']:.3f} = {r50:5.1f}×    "
              f"p99 {b['p99']:.3f} / {a['p99']:.3f} = {r99:5.1f}×    extra at p50: {b['p50'] - a['p50']:.3f} ms")
        verdicts.append((f"p99 < {GOAL_P99_MS:g} ms, {MODE_LABEL[mode]} (p99 {b['p99']:.3f} ms)", b["p99"] < GOAL_P99_MS))
        verdicts.append((f"within {GOAL_RATIO:g}× of the direct query, {MODE_LABEL[mode]} (p50 {r50:.1f}×)", r50 <= GOAL_RATIO))
        verdicts.append((f"within {GOAL_RATIO:g}× of the direct query, {MODE_LABEL[mode]} (p99 {r99:.1f}×)", r99 <= GOAL_RATIO))
    print()
    print("Ratios against the floor (raw query + one durable append): the issue's goal, p99 within "
          f"{GOAL_FLOOR_RATIO:g}× at {GOAL_AT:,} children")
    for mode in MODES:
        f = stats_ms(ways.samples[("floor", mode)])
        for way, label in (("service", "(b) service"), ("http", "(c) POST /index")):
            if not ways.samples[(way, mode)]:
                continue
            b = stats_ms(ways.samples[(way, mode)])
            r50, r99 = b["p50"] / f["p50"], b["p99"] / f["p99"]
            print(f"  {MODE_LABEL[mode]:<26} {label:<16} p50 {b['p50']:.3f} / {f['p50']:.3f} = {r50:5.1f}×    "
                  f"p99 {b['p99']:.3f} / {f['p99']:.3f} = {r99:5.1f}×")
            verdicts.insert(0, (f"p99 within {GOAL_FLOOR_RATIO:g}× of the floor, {label}, {MODE_LABEL[mode]} "
                                f"(p99 {r99:.1f}×)", r99 <= GOAL_FLOOR_RATIO))
    print()
    print("What the 2× goal leaves room for: the required work by hand, against the floor, and the guide against it")
    for mode in MODES:
        f, b = stats_ms(ways.samples[("floor", mode)]), stats_ms(ways.samples[("service", mode)])
        for way in ("hand-raw", "hand"):
            h = stats_ms(ways.samples[(way, mode)])
            print(f"  {MODE_LABEL[mode]:<26} {labels[way]:<28} p50 {h['p50'] / f['p50']:4.1f}× the floor, "
                  f"p99 {h['p99'] / f['p99']:4.1f}×;   (b) service p50 {b['p50'] / h['p50']:4.1f}× this, "
                  f"p99 {b['p99'] / h['p99']:4.1f}×")
    print()
    scale = "" if total >= GOAL_AT else f" — this run has {total:,} children; the goal is stated at {GOAL_AT:,} (--national)"
    print(f"Goals (reported, not asserted): p99 within {GOAL_FLOOR_RATIO:g}× of the floor; earlier: p99 under "
          f"{GOAL_P99_MS:g} ms at {GOAL_AT:,} children, within {GOAL_RATIO:g}× of the direct query{scale}")
    for text, met in verdicts:
        print(f"  [{'MET' if met else 'NOT MET':>7}] {text}")
    print()
    print(f"total run time {time.perf_counter() - started:.1f}s; loadavg now "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; database kept at {path} ({disk_size(path)})")

    if args.profile:
        # New users again: the timed run's have used their hour's look-ups.
        profiled = timed[: min(1000, len(timed))]
        ways.user_ids = [u for u, _ in bench_users(engine, math.ceil((len(profiled) + 1) / per_user))]
        profile_service(ways, profiled)
    ways.close()
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
