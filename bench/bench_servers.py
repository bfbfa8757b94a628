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
