"""Concurrency: 8 client processes x 500 saves into one database: no record lost or duplicated.

The saves go through the real HTTP interface (POST /api/v1/walks/<id>/record) of the real app
served by gunicorn on 127.0.0.1 with several worker processes (and two threads each), into one
SQLite file, or, when the suite runs with TEST_POSTGRES_URL, one PostgreSQL database. Besides its
own 500 walks, each client saves some walks that its partner client saves at the same moment
(both wait on a shared barrier, then send): exactly one of the two may succeed.

Then: every save that was acknowledged (201) is in the database exactly once, nothing that was
not acknowledged is there, no reference/version or walk is recorded twice, every save is
audited once, and the audit chain verifies.

The client processes are spawned and import only this module, whose top level uses the
standard library alone, so each starts in a fraction of a second.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

CLIENTS = 8          # separate OS processes sending saves
SAVES = 500          # each client's own walks
DUPLICATES = 50      # walks saved by two clients at once
SERVER_WORKERS = 4   # gunicorn worker processes ...
SERVER_THREADS = 2   # ... each with this many threads: 8 requests in the app at once


# --- the client processes (standard library only) ------------------------------------------------

def _post(port: int, token: str, path: str, body: dict) -> tuple[int, dict | None]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", path, body=json.dumps(body),
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    try:
        data = json.loads(raw or b"null")
    except ValueError:
        data = {"unparsed": raw[:200].decode(errors="replace")}
    return response.status, data


def _client(number: int, port: int, jobs: list, start, pair_barrier, results_path: str) -> None:
    """Save each job's walk in order; before a shared walk, wait for the partner client."""
    results = []
    start.wait(120)
    for walk_id, token, shared in jobs:
        if shared:
            pair_barrier.wait(120)  # both clients of the pair send this save now
        try:
            status, data = _post(port, token, f"/api/v1/walks/{walk_id}/record",
                                 {"subject_ref": f"C{number}-{walk_id[:6]}", "consent_position": "refused",
                                  "advice_sought": "no"})
        except (OSError, http.client.HTTPException) as problem:
            status, data = None, {"transport": repr(problem)}
        ok = status == 201
        results.append({"walk": walk_id, "shared": shared, "status": status,
                        "id": data.get("id") if ok else None,
                        "reference": data.get("reference") if ok else None,
                        "version": data.get("version") if ok else None,
                        "problem": None if ok else data})
    Path(results_path).write_text(json.dumps(results))


# --- the server ------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(env: dict, root: Path, log: Path) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    command = [sys.executable, "-m", "gunicorn", "--no-control-socket", "-w", str(SERVER_WORKERS), "-k", "gthread",
               "--threads", str(SERVER_THREADS), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
               "--error-logfile", str(log), "guide:create_app()"]
    server = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}: {log.read_text()[-2000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                connection.close()
                return server, port
        except OSError:
            pass
        time.sleep(0.1)
    server.kill()
    server.wait()
    raise RuntimeError("gunicorn did not start")


def _cpu_seconds() -> float:
    """User + system CPU of this process and of its children that have exited."""
    import resource
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- the test --------------------------------------------------------------------------------------

def test_concurrent_saves_lose_nothing_and_duplicate_nothing(tmp_path, capsys):
    from sqlalchemy import func, select, text

    from guide import create_app
    from guide.audit import verify
    from guide.crypto import KeyRing, new_key
    from guide.db import migrate
    from guide.models import AuditEvent, DecisionRecord, Walk
    from guide.accounts.users import create_user, issue_token
    from guide.decisions.steps import answer, start_walk

    from tests.conftest import ROOT, SMALL_CONTENT, fresh_database_url

    url = fresh_database_url(tmp_path)
    key = new_key()  # one key, given to every process
    keyring = KeyRing([key])
    migrate(url, keyring)
    settings = {"DATABASE_URL": url, "SECRET_KEY": "concurrency-test", "GUIDE_CONTENT_DIR": str(SMALL_CONTENT),
                "GUIDE_ENCRYPTION_KEYS": key, "GUIDE_CHEAP_PASSWORD_HASHING": "1"}

    # One practitioner per client, each with an API token, and finished walks of the small flowchart:
    # the first of each practitioner's walks is taken the way the app takes it (start, then answer
    # until there is an outcome), the rest are copies of it (same flowchart, content version and
    # answers), inserted in bulk so that making 4,000 walks takes a moment, not a minute.
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "concurrency-test", "CONTENT_DIR": SMALL_CONTENT,
                      "ENCRYPTION_KEYS": key})
    guidance = app.extensions["guidance"]
    engine = app.extensions["db_engine"]
    session = app.extensions["db_sessions"]()
    users, tokens, taken = [], [], []
    for n in range(CLIENTS):
        user = create_user(session, email=f"worker{n}@example.org", name=f"Worker {n}", role="practitioner",
                           agency="Northshire Health", team=f"Team {n % 3}", password="a long enough password")
        session.flush()
        users.append(user)
        tokens.append(issue_token(session, user))
        walk = start_walk(session, guidance, user, "mini")
        assert answer(session, guidance, walk, user, "purpose", "no").finished
        taken.append(walk)
    session.commit()

    def finished_walks(n: int, count: int) -> list[str]:
        model = taken[n]
        walks = [Walk(user_id=model.user_id, flowchart_id=model.flowchart_id, content_version=model.content_version,
                      answers=dict(model.answers)) for _ in range(count)]
        session.add_all(walks)
        session.flush()
        return [walk.id for walk in walks]

    own = [[taken[n].id] + finished_walks(n, SAVES - 1) for n in range(CLIENTS)]
    # Clients 2p and 2p+1 are partners; the walks they both save belong to client 2p.
    shared = [[] for _ in range(CLIENTS // 2)]
    for d in range(DUPLICATES):
        shared[d % len(shared)] += finished_walks(2 * (d % len(shared)), 1)
    session.commit()
    session.close()

    def jobs_for(n: int) -> list:
        pair, jobs = n // 2, [(walk, tokens[n], False) for walk in own[n]]
        walks = shared[pair]
        for k, walk in reversed(list(enumerate(walks))):  # spread evenly, at the same place for both partners
            jobs.insert((k + 1) * SAVES // (len(walks) + 1), (walk, tokens[2 * pair], True))
        return jobs

    server_log = tmp_path / "gunicorn.log"
    server, port = _serve({**os.environ, **settings}, ROOT, server_log)
    clients = []
    try:
        spawn = multiprocessing.get_context("spawn")
        start = spawn.Barrier(CLIENTS + 1)
        pair_barriers = [spawn.Barrier(2) for _ in range(CLIENTS // 2)]
        outputs = [tmp_path / f"client{n}.json" for n in range(CLIENTS)]
        clients = [spawn.Process(target=_client, args=(n, port, jobs_for(n), start, pair_barriers[n // 2],
                                                       str(outputs[n])))
                   for n in range(CLIENTS)]
        for client in clients:
            client.start()
        start.wait(120)  # every client is up: the clock starts now
        began, cpu_before = time.perf_counter(), _cpu_seconds()
        for client in clients:
            client.join(600)
        elapsed = time.perf_counter() - began
        assert [client.exitcode for client in clients] == [0] * CLIENTS
    finally:
        _stop(server)
        for client in clients:
            if client.is_alive():
                client.kill()
    cpu = _cpu_seconds() - cpu_before  # the server's workers and the clients, once they have exited

    results = [result for output in outputs for result in json.loads(output.read_text())]
    attempts = len(results)
    assert attempts == CLIENTS * SAVES + 2 * DUPLICATES
    with capsys.disabled():
        print(f"\n[concurrency] {engine.dialect.name}: {attempts} saves from {CLIENTS} processes "
              f"(gunicorn {SERVER_WORKERS} workers x {SERVER_THREADS} threads) in {elapsed:.1f} s, "
              f"{attempts / elapsed:.0f} saves/s; {1000 * cpu / attempts:.1f} ms of CPU a save "
              f"(server and clients); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    # Every save of a client's own walk succeeded; of each shared walk's two saves, exactly one did,
    # and the other was refused as a conflict (not an error).
    failures = [r for r in results if not r["shared"] and r["status"] != 201]
    assert failures == [], (f"{len(failures)} saves failed, e.g. {[(r['status'], r['problem']) for r in failures[:3]]}; "
                            f"server log: {server_log.read_text()[-3000:]}")
    by_walk: dict[str, list] = {}
    for r in results:
        if r["shared"]:
            by_walk.setdefault(r["walk"], []).append(r)
    assert len(by_walk) == DUPLICATES
    assert {walk: [(r["status"], r["problem"]) for r in pair] for walk, pair in by_walk.items()
            if sorted(r["status"] for r in pair) != [201, 409]} == {}

    acknowledged = [r for r in results if r["status"] == 201]
    assert len(acknowledged) == CLIENTS * SAVES + DUPLICATES
    assert len({r["id"] for r in acknowledged}) == len(acknowledged)
    assert all(r["version"] == 1 for r in acknowledged)

    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, reference, version, walk_id FROM decision_records")).all()
        record_events = connection.execute(
            select(AuditEvent.object_id).where(AuditEvent.action == "record.create")).scalars().all()
        assert connection.execute(select(func.count()).select_from(DecisionRecord)).scalar() == len(acknowledged)
    # The count is exactly what was acknowledged, and each acknowledged record is there once, as acknowledged.
    assert len(rows) == len(acknowledged)
    stored = {row.id: row for row in rows}
    assert len(stored) == len(rows)
    for r in acknowledged:
        row = stored.get(r["id"])
        assert row is not None, f"acknowledged record {r['reference']} lost"
        assert (row.reference, row.version, row.walk_id) == (r["reference"], r["version"], r["walk"])
    # No reference/version, reference or walk recorded twice.
    assert [k for k, c in Counter((row.reference, row.version) for row in rows).items() if c > 1] == []
    assert [k for k, c in Counter(row.reference for row in rows).items() if c > 1] == []
    per_walk = Counter(row.walk_id for row in rows)
    assert [k for k, c in per_walk.items() if c > 1] == []
    assert {walk: per_walk[walk] for walk in by_walk if per_walk[walk] != 1} == {}  # each shared walk: one record
    # Each save audited exactly once, and the chain verifies (sealing anything left unsealed first).
    assert Counter(record_events) == Counter(r["id"] for r in acknowledged)
    checked, broken, why = verify(engine)
    assert broken is None, why
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(AuditEvent)).scalar() == checked
    engine.dispose()
