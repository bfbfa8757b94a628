"""The two apps the step benchmark serves: the guide and a bare Flask baseline.

Used in-process by bench/step_latency.py and, over HTTP, as gunicorn app factories:

    gunicorn --chdir bench 'bench_servers:guide_app()'   # needs BENCH_DATABASE_URL, BENCH_SECRET_KEY
    gunicorn --chdir bench 'bench_servers:bare_app()'
    gunicorn --chdir bench 'bench_servers:durable_app()'  # needs BENCH_DURABLE_PATH
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

from flask import Flask, redirect, request
from markupsafe import escape

REPO = Path(__file__).resolve().parent.parent


def guide_app(database_url: str | None = None, secret_key: str | None = None, content_dir: str | None = None,
              **config):
    """The real guide, on a database that has already been migrated and has its users."""
    from guide import create_app

    return create_app({
        "DATABASE_URL": database_url or os.environ["BENCH_DATABASE_URL"],
        "SECRET_KEY": secret_key or os.environ["BENCH_SECRET_KEY"],
        "CONTENT_DIR": Path(content_dir or os.environ.get("BENCH_CONTENT_DIR") or REPO / "content"),
        **config,
    })


_BARE_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{question} – bare</title></head>
<body><main>
<h1>Question {question}</h1>
<form method="post" action="/bare/{walk}/{question}">
<input type="hidden" name="csrf_token" value="bare-token">
<label><input type="radio" name="answer" value="yes"> Yes</label>
<label><input type="radio" name="answer" value="no"> No</label>
<button type="submit">Continue</button>
</form>
</main></body></html>
"""


def bare_app() -> Flask:
    """The same shape as a guide step (POST an answer, 303 to the next page, GET it), doing nothing else."""
    app = Flask("bare")

    @app.post("/bare/<walk>/<question>")
    def answer(walk: str, question: str):
        request.form.get("answer", "")
        following = request.form.get("next", "done")
        return redirect(f"/bare/{walk}/{following}", 303)

    @app.get("/bare/<walk>/<question>")
    def page(walk: str, question: str):
        return _BARE_PAGE.format(walk=escape(walk), question=escape(question))

    return app


# The guide's SQLite settings (guide/db.py): WAL, and synchronous=FULL so an acknowledged commit
# survives a power cut.
DURABLE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL")


def durable_connection(path: str) -> sqlite3.Connection:
    """A raw sqlite3 connection with the guide's journal and synchronous settings, and the table the
    durable baseline appends to."""
    connection = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    for pragma in DURABLE_PRAGMAS:
        connection.execute(pragma)
    connection.execute("CREATE TABLE IF NOT EXISTS bare_answers (id INTEGER PRIMARY KEY, walk TEXT NOT NULL, "
                       "question TEXT NOT NULL, answer TEXT NOT NULL)")
    return connection


def durable_app(path: str | None = None) -> Flask:
    """The bare app plus the floor of a guide step: its POST durably commits one row (raw sqlite3, the
    guide's journal and synchronous settings) before answering 303. No ORM, session, template or CSRF:
    what is left between this and the guide is the guide's own overhead, not durability."""
    path = path or os.environ["BENCH_DURABLE_PATH"]
    app = bare_app()
    per_thread = threading.local()
    durable_connection(path).close()  # the table exists before the first request

    def connection() -> sqlite3.Connection:
        if getattr(per_thread, "connection", None) is None:
            per_thread.connection = durable_connection(path)
        return per_thread.connection

    def answer(walk: str, question: str):
        db = connection()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO bare_answers (walk, question, answer) VALUES (?, ?, ?)",
                   (walk, question, request.form.get("answer", "")))
        db.execute("COMMIT")
        return redirect(f"/bare/{walk}/{request.form.get('next', 'done')}", 303)

    app.view_functions["answer"] = answer
    return app


# --------------------------------------------------------------------------- the guarantees, by hand

_FLOOR_PAGE = _BARE_PAGE.replace("bare-token", "{token}").replace("<title>", '<title data-nonce="{nonce}">')
_FLOOR_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS floor_users (id INTEGER PRIMARY KEY, name BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS floor_sessions (id_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL, data BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS floor_walks (id TEXT PRIMARY KEY, user_id INTEGER NOT NULL, answers BLOB NOT NULL, "
    "revision INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS floor_audit (id INTEGER PRIMARY KEY, chain INTEGER, seq INTEGER, prev_hash TEXT, "
    "hash TEXT, user_id INTEGER, action TEXT, object_id TEXT, detail BLOB)",
    "CREATE TABLE IF NOT EXISTS floor_heads (chain INTEGER PRIMARY KEY, seq INTEGER NOT NULL, hash TEXT NOT NULL)",
)


class _RawStatements:
    """Statements straight to sqlite3 (autocommit; transactions begun by hand, as the guide's SQLite writes are)."""

    def __init__(self, path: str):
        self.connection = durable_connection(path)

    def run(self, sql: str, params: dict = {}):  # noqa: B006 (never changed)
        return self.connection.execute(sql, params)

    def _control(self, sql: str):
        self.connection.execute(sql)

    def begin(self):
        self._control("BEGIN IMMEDIATE")

    def commit(self):
        self._control("COMMIT")

    def rollback(self):
        self._control("ROLLBACK")


class _SqlAlchemyStatements(_RawStatements):
    """The same statements through a SQLAlchemy Connection, by its thinnest path (`exec_driver_sql`: the SQL
    string to the driver, with SQLAlchemy's execution context and result around it, nothing compiled): the
    least SQLAlchemy adds to a statement, without its ORM or its SQL expression language."""

    def __init__(self, path: str):
        from sqlalchemy import create_engine, event

        engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            for pragma in DURABLE_PRAGMAS:
                dbapi_connection.execute(pragma)

        # Autocommit: SQLAlchemy begins nothing itself, so the transaction is BEGIN IMMEDIATE, as above.
        self.connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def run(self, sql: str, params: dict = {}):  # noqa: B006 (never changed)
        return self.connection.exec_driver_sql(sql, params)

    def _control(self, sql: str):
        self.connection.exec_driver_sql(sql)


def checkpoint_by_hand(path: Path, mac_key: bytes, chain: int, seq: int, digest: str) -> None:
    """A chain's head, signed, written to a file outside the database, as the guide's checkpoints are: under
    the file's lock the checkpoint already there is read, and a newer one kept."""
    import fcntl
    import hashlib
    import hmac
    import json

    signed = json.dumps({"chain": chain, "seq": seq, "hash": digest,
                         "signature": hmac.new(mac_key, f"{chain}:{seq}:{digest}".encode(), hashlib.sha256).hexdigest()})
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        kept = os.pread(fd, 512, 0).rstrip(b"\0 ")
        if not kept or json.loads(kept)["seq"] < seq or json.loads(kept)["chain"] != chain:
            os.pwrite(fd, signed.encode().ljust(512), 0)
    finally:
        os.close(fd)


def guarantees_app(path: str, flowchart: str, content_dir: str | None = None, *, via: str = "sqlite3") -> Flask:
    """The bare app doing by hand, with no framework beyond Flask, what a guide step must do whatever it is
    built with; what is left between this and the guide is the cost of how the guide does it (SQLAlchemy's
    ORM, Flask-WTF, Jinja, the session interface), not of what it does. `via`: "sqlite3" sends its statements
    straight to sqlite3; "sqlalchemy" through a SQLAlchemy Connection's thinnest path (no ORM, nothing compiled).

    - the session cookie names a random id; its row (found by the id's hash) and its user's are read, their
      encrypted values opened (AES-GCM, bound to their row), and the form token compared with the session's;
    - the walk is read (only the signed-in user's own) and its encrypted answers opened; the flowchart's
      machine replays them, and the answer must be one the current question offers;
    - the answers are written back encrypted, only if the walk's revision is still the one read;
    - an audit event goes in chained: the chain's head taken, the entry's keyed hash worked out, its detail
      encrypted, the head moved; all in one durable commit (the guide's SQLite settings); then the chain's
      head is written, signed, to a checkpoint file outside the database;
    - the next page is a page kept whole, with the form token, a CSP nonce and the walk's id put in.
    """
    import base64
    import hashlib
    import hmac
    import json
    import secrets

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from guide.guidance import Guidance

    machine = Guidance.load(Path(content_dir or REPO / "content")).machines[flowchart]
    aead, mac_key = AESGCM(hashlib.sha256(b"floor encryption").digest()), hashlib.sha256(b"floor audit").digest()
    checkpoint = Path(path + ".checkpoint")

    def seal(value, where: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + aead.encrypt(nonce, json.dumps(value).encode(), where.encode())

    def open_(blob: bytes, where: str):
        return json.loads(aead.decrypt(blob[:12], blob[12:], where.encode()))

    schema = durable_connection(path)
    for statement in _FLOOR_SCHEMA:
        schema.execute(statement)
    schema.close()
    statements_class = {"sqlite3": _RawStatements, "sqlalchemy": _SqlAlchemyStatements}[via]
    per_thread = threading.local()

    def db() -> _RawStatements:
        if getattr(per_thread, "statements", None) is None:
            per_thread.statements = statements_class(path)
        return per_thread.statements

    app = Flask("guarantees")

    def signed_in():
        token = request.cookies.get("floor_sid", "")
        found = db().run("SELECT s.user_id, s.data, u.name FROM floor_sessions s JOIN floor_users u ON u.id = s.user_id "
                         "WHERE s.id_hash = :id_hash", {"id_hash": hashlib.sha256(token.encode()).hexdigest()}).fetchone()
        if found is None:
            return None
        user_id, data, name = found
        return user_id, open_(data, f"session:{user_id}"), open_(name, f"user:{user_id}")

    def walk_of(walk_id: str, user_id: int):
        found = db().run("SELECT answers, revision FROM floor_walks WHERE id = :walk AND user_id = :user",
                         {"walk": walk_id, "user": user_id}).fetchone()
        return None if found is None else (open_(found[0], f"walk:{walk_id}"), found[1])

    @app.post("/bare/sign-in")
    def sign_in():
        token, user_id = secrets.token_urlsafe(32), secrets.randbelow(1 << 30) + 1
        connection = db()
        connection.begin()
        connection.run("INSERT INTO floor_users (id, name) VALUES (:id, :name)",
                       {"id": user_id, "name": seal("Bench Practitioner", f"user:{user_id}")})
        connection.run("INSERT INTO floor_sessions VALUES (:id_hash, :user, :data)", {
            "id_hash": hashlib.sha256(token.encode()).hexdigest(), "user": user_id,
            "data": seal({"csrf": secrets.token_urlsafe(32)}, f"session:{user_id}")})
        connection.commit()
        response = redirect("/bare/signed-in", 303)
        response.set_cookie("floor_sid", token, httponly=True, samesite="Lax")
        return response

    @app.post("/bare/start")
    def start():
        user_id, _data, _name = signed_in()
        walk_id = secrets.token_hex(16)
        connection = db()
        connection.begin()
        connection.run("INSERT INTO floor_walks VALUES (:walk, :user, :answers, 1)",
                       {"walk": walk_id, "user": user_id, "answers": seal({}, f"walk:{walk_id}")})
        connection.commit()
        return redirect(f"/bare/{walk_id}/{machine.replay({}).current.id}", 303)

    @app.post("/bare/<walk_id>/<question>")
    def answer(walk_id: str, question: str):
        who = signed_in()
        if who is None or not hmac.compare_digest(request.form.get("csrf_token", ""), who[1]["csrf"]):
            return "refused", 400
        user_id = who[0]
        walk = walk_of(walk_id, user_id)
        if walk is None:
            return "not found", 404
        answers, revision = walk
        here = machine.replay(answers)
        value = request.form.get("answer", "")
        if here.current is None or here.current.id != question or here.current.answer(value) is None:
            return "refused", 409
        answers = {**answers, question: value}
        at = time.time()
        detail = {"question": question, "answer": value}
        connection = db()
        connection.begin()
        try:
            if connection.run("UPDATE floor_walks SET answers = :answers, revision = :new WHERE id = :walk AND revision = :read",
                              {"answers": seal(answers, f"walk:{walk_id}"), "new": revision + 1, "walk": walk_id,
                               "read": revision}).rowcount != 1:
                raise RuntimeError("changed in another window")
            chain = user_id % 16
            seq, prev = connection.run(
                "INSERT INTO floor_heads VALUES (:chain, 0, 'genesis') ON CONFLICT (chain) DO UPDATE SET seq = seq "
                "RETURNING seq, hash", {"chain": chain}).fetchone()
            seq += 1
            digest = hmac.new(mac_key, json.dumps([chain, seq, prev, at, user_id, "walk.answer", walk_id, detail]).encode(),
                              hashlib.sha256).hexdigest()
            event = connection.run("INSERT INTO floor_audit (chain, seq, prev_hash, hash, user_id, action, object_id) "
                                   "VALUES (:chain, :seq, :prev, :hash, :user, 'walk.answer', :walk)",
                                   {"chain": chain, "seq": seq, "prev": prev, "hash": digest, "user": user_id,
                                    "walk": walk_id}).lastrowid
            connection.run("UPDATE floor_audit SET detail = :detail WHERE id = :id",
                           {"detail": seal(detail, f"audit:{event}"), "id": event})
            connection.run("UPDATE floor_heads SET seq = :seq, hash = :hash WHERE chain = :chain",
                           {"seq": seq, "hash": digest, "chain": chain})
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        checkpoint_by_hand(checkpoint, mac_key, chain, seq, digest)
        here = machine.replay(answers)
        following = here.current.id if here.current is not None else "outcome"
        return redirect(f"/bare/{walk_id}/{following}", 303)

    @app.get("/bare/<walk_id>/<question>")
    def page(walk_id: str, question: str):
        who = signed_in()
        walk = walk_of(walk_id, who[0]) if who is not None else None
        if walk is None:
            return "not found", 404
        machine.replay(walk[0])
        nonce = base64.urlsafe_b64encode(os.urandom(16)).decode()
        response = app.make_response(_FLOOR_PAGE.format(walk=escape(walk_id), question=escape(question),
                                                        token=who[1]["csrf"], nonce=nonce))
        response.headers["Content-Security-Policy"] = f"default-src 'self'; script-src 'self' 'nonce-{nonce}'"
        response.headers["Cache-Control"] = "no-store"
        return response

    return app
