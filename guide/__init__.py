"""The guide: decide whether to share information about a child, and record why."""

from __future__ import annotations

from collections import ChainMap
from pathlib import Path

from flask import Flask
from flask.templating import Environment
from flask_htmx import HTMX
from flask_wtf.csrf import CSRFProtect
from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    MemcachedBytecodeCache,
    PackageLoader,
    PrefixLoader,
)

from .config import load_config
from .crypto import load_keyring
from .db import make_engine, make_sessionmaker, migrate
from .guidance import Guidance

csrf = CSRFProtect()


class _CompiledTemplates(dict):
    """Compiled templates shared by every app in the process (GOV.UK macros are slow to compile)."""

    def set(self, key, value, timeout=None):
        self[key] = value


_compiled_templates = MemcachedBytecodeCache(_CompiledTemplates())


class _TemplateGlobals(ChainMap):
    """A template's globals, whose keys are a set: Jinja subtracts them from the importing page's on
    every `{% from … import … %}` (a dozen a page), and against a ChainMap's keys that subtraction
    runs in Python, one lookup through every map per name."""

    def keys(self):
        return set().union(*self.maps)


class _Environment(Environment):
    def make_globals(self, d):
        return _TemplateGlobals({} if d is None else d, self.globals)


def create_app(config: dict | None = None) -> Flask:
    """Build the app. Refuses to start (raises ContentError) if the content does not pass its check."""
    app = Flask(__name__, instance_relative_config=True)
    app.jinja_environment = _Environment
    app.config.update(load_config(Path(app.instance_path), config))

    guidance = app.extensions["guidance"] = Guidance.load(app.config["CONTENT_DIR"])
    if guidance.chat is not None:
        from .chat.retrieve import build_index
        app.extensions["chat_content"] = guidance.chat
        app.extensions["chat_index"] = build_index(guidance, guidance.text)
    if guidance.text is not None:
        app.extensions["guidance_text"] = guidance.text
    # Keys for the encrypted columns: from the environment, or made once in the instance folder.
    keyring = app.extensions["keyring"] = load_keyring(Path(app.instance_path), app.config.get("ENCRYPTION_KEYS"))
    engine = make_engine(app.config["DATABASE_URL"], keyring)
    # The audit chains' key and the folder their checkpoints go to: outside the database, like the keys.
    from .audit_chain import attach_audit, make_audit_setup
    attach_audit(engine, make_audit_setup(Path(app.instance_path), app.config["DATABASE_URL"],
                                          app.config.get("AUDIT_KEY"), app.config.get("AUDIT_CHECKPOINTS")))
    app.extensions["db_engine"] = engine
    app.extensions["db_sessions"] = make_sessionmaker(engine)
    if app.config.get("AUTO_MIGRATE"):
        migrate(app.config["DATABASE_URL"], keyring)

    app.jinja_options = {**app.jinja_options, "trim_blocks": True, "lstrip_blocks": True,
                         "bytecode_cache": _compiled_templates}
    app.jinja_loader = ChoiceLoader([
        FileSystemLoader(str(Path(__file__).parent / "templates")),
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
    ])

    csrf.init_app(app)
    HTMX(app)
    from .fragments import init_fragments
    init_fragments(app, guidance.version)

    from . import errors, security, web
    from .accounts import admin, views as accounts
    from .accounts.sessions import init_sessions
    from .advice import views as advice
    from .api import advice as advice_api, views as api
    from .chat import views as chat
    from .decisions import start, views as decisions
    from .index import views as index
    from .lookup import views as lookup
    from .process import views as process
    from .records import views as records
    from .training import live_sessions, self_study
    security.init_security(app)
    init_sessions(app)
    web.init_web(app)
    errors.init_errors(app)
    # One blueprint per journey (each package's views hold its pages; its templates sit beside them).
    for journey in (accounts, admin, start, decisions, records, self_study, live_sessions, process, chat, lookup,
                    index, api, advice, advice_api):
        app.register_blueprint(journey.bp)
    csrf.exempt(api.bp)
    csrf.exempt(advice_api.bp)
    from .records.export_jobs import init_export_jobs
    init_export_jobs(app)  # large exports made in the background, kept in the database
    advice.init_advice(app)  # emails after commit; the advice count and blocks other pages show
    from .tasks import configure as configure_tasks
    configure_tasks(app)  # background work: the task queue's storage, and this app for its tasks

    from .cli import register_cli
    register_cli(app)
    return app
