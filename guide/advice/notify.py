"""Telling people there is something to look at: by email when the agency set up SMTP, else in the guide only.

An email says only that there is something to look at, with a link to the guide: never a
name, a reference, a question or advice. Emails are queued on the database session and sent
once its transaction has committed, so nobody is told of a change that was rolled back.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage

from flask import Flask, has_request_context, url_for
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

SUBJECT = "Something to look at in the information sharing guide"
BODY = ("There is something for you to look at in the information sharing guide.\n\n"
        "Sign in to see it: {link}\n\n"
        "This email says nothing about any child on purpose. If a child is in immediate danger, call 999.\n")


def smtp_settings(config) -> dict | None:
    """The SMTP server from the configuration (GUIDE_SMTP_*), or None when email is not set up."""
    host = config.get("SMTP_HOST") or ""
    if not host:
        return None
    return {"host": host, "port": int(config.get("SMTP_PORT") or 587), "tls": config.get("SMTP_TLS") or "starttls",
            "username": config.get("SMTP_USERNAME") or "", "password": config.get("SMTP_PASSWORD") or "",
            "sender": config.get("SMTP_FROM") or "guide@localhost", "timeout": float(config.get("SMTP_TIMEOUT") or 10)}


def _advice_link(base_url: str) -> str:
    if has_request_context():
        return url_for("advice.index", _external=True)
    return f"{(base_url or 'http://127.0.0.1:5000').rstrip('/')}/advice"


def tell(db: Session, emails: list[str]) -> None:
    """Queue an email to each address, sent after the session commits (nothing when SMTP is not set up).

    The settings travel with the app's database sessions (init_notify), so code that saves outside
    a request or app context (commands, tests) is served the same way.
    """
    settings = db.info.get("smtp")
    if settings is None:
        return
    wanted = sorted({email for email in emails if email})
    if wanted:
        db.info.setdefault("advice_mail", []).append((settings, wanted, _advice_link(db.info.get("base_url", ""))))


def send(settings: dict, recipients: list[str], link: str) -> None:
    message = EmailMessage()
    message["Subject"] = SUBJECT
    message["From"] = settings["sender"]
    message["To"] = settings["sender"]  # recipients go in the envelope only: none sees who else was told
    message.set_content(BODY.format(link=link))
    if settings["tls"] == "ssl":
        smtp = smtplib.SMTP_SSL(settings["host"], settings["port"], timeout=settings["timeout"],
                                context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(settings["host"], settings["port"], timeout=settings["timeout"])
    with smtp:
        if settings["tls"] == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if settings["username"]:
            smtp.login(settings["username"], settings["password"])
        smtp.send_message(message, to_addrs=recipients)


def init_notify(app: Flask) -> None:
    sessions = app.extensions["db_sessions"]
    settings = smtp_settings(app.config)
    if settings is not None:
        sessions.configure(info={**sessions.kw.get("info", {}), "smtp": settings,
                                 "base_url": app.config.get("BASE_URL") or ""})

    @event.listens_for(sessions, "after_commit")
    def _send_queued(session):
        for settings, recipients, link in session.info.pop("advice_mail", []):
            try:
                send(settings, recipients, link)
            except (OSError, smtplib.SMTPException) as error:
                # The in-app count still shows it: an email is a nudge, not the only way to know.
                log.warning("advice email to %d recipient(s) not sent: %s", len(recipients), error)

    @event.listens_for(sessions, "after_rollback")
    def _forget_queued(session):
        session.info.pop("advice_mail", None)
