"""Security headers on every response, with a per-request nonce for the one inline script."""

from __future__ import annotations

import secrets

from flask import Flask, g, request

from .fragments import add_request_value, request_value


# Files that are the same for everyone, about no one.
CACHEABLE_ENDPOINTS = {"static", "pages.govuk_assets"}


def init_security(app: Flask) -> None:
    @app.before_request
    def _nonce():
        g.csp_nonce = secrets.token_urlsafe(16)

    add_request_value("csp_nonce", lambda: g.get("csp_nonce", ""))

    @app.context_processor
    def _nonce_in_templates():
        return {"csp_nonce": request_value("csp_nonce")}

    @app.after_request
    def _headers(response):
        nonce = g.get("csp_nonce", "")
        response.headers.setdefault("Content-Security-Policy", (
            f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; "
            "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        ))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.endpoint not in CACHEABLE_ENDPOINTS:
            # Any page may be about a child (records, walks, the index, subject access, chat, a
            # training room): none may linger in a shared cache, the browser's cache or its
            # back-forward cache. Only the static files (the same for everyone) are cached.
            response.headers["Cache-Control"] = "no-store"
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
