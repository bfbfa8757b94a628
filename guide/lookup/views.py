"""Look-ups: glossary terms and the guidance's paragraphs, quoted with their references."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, render_template, request

from ..web import guidance, login_required

bp = Blueprint("lookup", __name__, template_folder="templates")


def _text():
    text = guidance().text
    if text is None:
        abort(404)
    return text


@bp.get("/glossary")
@login_required
def index():
    terms = sorted(_text().terms.values(), key=lambda t: t.term.lower())
    return render_template("lookup/glossary.html", terms=terms)


@bp.get("/glossary/<term_id>")
@login_required
def term(term_id: str):
    found = _text().terms.get(term_id)
    if found is None:
        abort(404)
    return render_template("lookup/glossary_term.html", term=found, terms=_text().terms)


@bp.get("/guidance")
@login_required
def paragraph():
    ref = request.args.get("ref", "")[:40]
    found = _text().paragraphs.get(ref)
    if found is None:
        abort(404)
    return render_template("lookup/paragraph.html", paragraph=found)


def terms_in(*texts: str) -> list:
    """The glossary terms a page's text uses, for its "what does this mean?" links.

    Remembered per text: the texts are content, the same on every request.
    """
    text = guidance().text
    if text is None:
        return []
    remembered = current_app.extensions.setdefault("glossary_terms_in", {})
    key = tuple(texts)
    if key not in remembered:
        haystack = " ".join(t.lower() for t in texts if t)
        remembered[key] = [
            glossary_term for glossary_term in text.terms.values()
            if any(re.search(rf"\b{re.escape(name)}\b", haystack)
                   for name in {glossary_term.term.lower(), *glossary_term.aliases} if name)
        ]
    return remembered[key]


@bp.app_context_processor
def _terms_helper():
    return {"terms_in": terms_in}
