"""Markdown from content and free text, rendered then sanitised: nothing a user or editor writes runs."""

from __future__ import annotations

from functools import lru_cache

import markdown as md
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {"p", "ul", "ol", "li", "strong", "em", "a", "br", "blockquote", "code", "h3", "h4"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}

# GOV.UK Frontend styles its typography by class, so markdown output gets the classes too.
_CLASSES = {
    "<p>": '<p class="govuk-body">',
    "<ul>": '<ul class="govuk-list govuk-list--bullet">',
    "<ol>": '<ol class="govuk-list govuk-list--number">',
    "<a ": '<a class="govuk-link" ',
    "<h3>": '<h3 class="govuk-heading-s">',
    "<h4>": '<h4 class="govuk-heading-s">',
    "<blockquote>": '<blockquote class="govuk-inset-text">',
}


@lru_cache(maxsize=1024)
def render_markdown(text: str | None) -> Markup:
    """Markdown from content (help, outcomes, actions). Cached: rendered on every page and never changed."""
    return render_typed_markdown(text)


def render_typed_markdown(text: str | None) -> Markup:
    """Markdown someone typed (a record's notes): never cached, as nothing typed about a child is kept in
    the worker's memory beyond the request that shows it."""
    if not text:
        return Markup("")
    html = md.markdown(text, extensions=["sane_lists"])
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                      url_schemes={"https", "http", "mailto"}, link_rel="noopener noreferrer")
    for plain, styled in _CLASSES.items():
        clean = clean.replace(plain, styled)
    return Markup(clean)
