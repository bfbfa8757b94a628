"""A cache of rendered template fragments, for markup that is the same every time for the same inputs.

The GOV.UK macros are most of a page's cost, and a question's radios, its help, a page's
navigation are the same markup for the same question, answer and role on every request. A
template wraps such markup in a call block, naming everything the markup depends on:

    {% call cached_fragment("question-form", chart.id, question.id, selected, error) %}
      {{ govukRadios({...}) }}
    {% endcall %}

The first request renders the block and keeps the markup; later ones with the same key reuse
it. The key always includes the content version, so edited content is never served stale.

What may go in a cached block: markup derived from content and from the key's values only.
Never a CSRF token, a nonce, or anything about a child or typed by a user (the cache is process
memory shared by every user of the worker). Keys are hashed, so values in them are not kept.
What changes on every request goes in through `fill`: the block renders a placeholder, and the
placeholder is replaced by the fresh markup after the cached markup is found:

    {% call cached_fragment("navigation", nav, fill={"@@sign-out@@": sign_out}) %}
      {{ govukServiceNavigation({..., "slots": {"navigationEnd": "@@sign-out@@"}}) }}
    {% endcall %}

A whole page can be cached the same way (`render_cached_page`), for the pages asked for most (a
question): what differs for each request or user in it (the form token, the nonce, who is signed
in, their advice count) is written through `request_value(name)`, which gives the value when a
page is rendered normally and a placeholder when it is rendered for the cache; the placeholders
are filled with this request's values whether the page came from the cache or not.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection

from flask import Flask, current_app, g, render_template
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

MAX_FRAGMENTS = 4096
MAX_PAGES = 512  # whole pages are bigger: ~15 KB each


class FragmentCache:
    """A bounded least-recently-used map from a fragment's key to its markup, safe across threads."""

    def __init__(self, version: str, capacity: int = MAX_FRAGMENTS):
        self.version = version
        self.capacity = capacity
        self._fragments: OrderedDict[str, Markup] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def key(self, parts: tuple) -> str:
        return hashlib.blake2b(repr((self.version, parts)).encode(), digest_size=16).hexdigest()

    def get_or_render(self, parts: tuple, render) -> Markup:
        key = self.key(parts)
        with self._lock:
            found = self._fragments.get(key)
            if found is not None:
                self._fragments.move_to_end(key)
                self.hits += 1
                return found
        markup = Markup(render())
        with self._lock:
            self.misses += 1
            self._fragments[key] = markup
            if len(self._fragments) > self.capacity:
                self._fragments.popitem(last=False)
        return markup


def cached_fragment(name: str, *parts, caller, fill: dict | None = None) -> Markup:
    """The template global behind `{% call cached_fragment(name, *key) %}…{% endcall %}`."""
    if current_app.config.get("CACHE_FRAGMENTS", True):
        markup = current_app.extensions["fragment_cache"].get_or_render((name, *parts), caller)
    else:
        markup = Markup(caller())
    if fill:
        # One pass, so text put in for one placeholder is never searched for the others.
        pattern = re.compile("|".join(re.escape(placeholder) for placeholder in fill))
        markup = Markup(pattern.sub(lambda found: str(fill[found.group(0)]), markup))
    return markup


class TypedValues:
    """A form's values as a cached fragment sees them, so a form can be cached without what was typed in it.

    Choices (radios, checkboxes) come through as they are and go into the fragment's key (`key`): the
    markup depends on which is checked. Anything else (text someone typed) comes through as a
    placeholder, and `fills` puts the text back, escaped, after the cached markup is found: the cache
    keeps the form's shape, never its contents. Which text fields are filled in at all is part of the
    key (names only), as a template may show or hide something by it (`values.get("notes") or …`).
    """

    def __init__(self, values: dict, choices: Collection[str]):
        self._values = values
        self._choices = frozenset(choices)

    @staticmethod
    def _placeholder(name: str) -> str:
        # Private-use characters: escaping leaves them alone, and nobody's text is made of them.
        return f"\ue000{name}\ue001"

    def get(self, name: str, default=""):
        value = self._values.get(name)
        if name in self._choices:
            return default if value is None else value
        return self._placeholder(name) if value else default

    @property
    def key(self) -> tuple:
        chosen = tuple((name, tuple(value) if isinstance(value, list) else value)
                       for name, value in sorted(self._values.items()) if name in self._choices)
        typed = tuple(sorted(name for name, value in self._values.items() if name not in self._choices and value))
        return chosen, typed

    @property
    def fills(self) -> dict[str, Markup]:
        if g.get("rendering_for_page_cache"):
            return {}  # the whole page is being kept: it keeps the placeholders, render_cached_page fills them
        return {self._placeholder(name): escape(value) for name, value in self._values.items()
                if name not in self._choices and value}

    def typed(self, name: str) -> Markup:
        """What was typed into `name`, escaped, for its placeholder."""
        return escape(self._values.get(name) or "")


# --- whole pages --------------------------------------------------------------------------------------

# Values that differ for each request or user, by name: how to work each one out for this request.
_REQUEST_VALUES: dict[str, Callable[[], object]] = {}
# A request value's placeholder, or a typed value's (TypedValues) in a form on a kept page.
_PAGE_PLACEHOLDER = re.compile("\ue002([a-z_]+)\ue003|\ue000([^\ue000-\ue003]+)\ue001")


def _placeholder(name: str) -> str:
    return f"\ue002{name}\ue003"


def request_value(name: str):
    """This request's value of `name` (see add_request_value); a placeholder while a page is rendered for
    the page cache. None stays None, so a template can still leave out what does not apply."""
    value = _REQUEST_VALUES[name]()
    if value is not None and g.get("rendering_for_page_cache"):
        return Markup(_placeholder(name))
    return value


def add_request_value(name: str, compute: Callable[[], object]) -> None:
    """Declare a value that differs for each request or user, for templates to write as request_value(name)."""
    _REQUEST_VALUES[name] = compute


def render_cached_page(template_name: str, key: tuple, layout_key: tuple, *, stand_ins: dict[str, str] | None = None,
                       typed: TypedValues | None = None, **context) -> str:
    """The page from the page cache, else rendered and kept, with this request's values filled in.

    `key` names everything the page's own content depends on and `layout_key` everything its layout
    does (who is signed in as what, which page is active), besides request values. `stand_ins` maps
    strings that are this request's own (a walk's id in its links) to names: they are kept in the cache
    as placeholders and put back, like request values. `typed` is a form's values on the page (its
    `key` must be in `key`): what was typed is put back into the form the same way."""
    if not current_app.config.get("CACHE_FRAGMENTS", True):
        return render_template(template_name, **context)
    stand_ins = stand_ins or {}

    def render() -> str:
        g.rendering_for_page_cache = True
        try:
            page = render_template(template_name, **context)
        finally:
            g.rendering_for_page_cache = False
        for own, name in stand_ins.items():
            page = page.replace(own, _placeholder(name))
        return page

    page = current_app.extensions["page_cache"].get_or_render((template_name, layout_key, key), render)
    values = {name: own for own, name in stand_ins.items()}

    def fill(found: re.Match) -> str:
        name, typed_name = found.groups()
        if typed_name is not None:
            return str(typed.typed(typed_name)) if typed is not None else ""
        if name not in values:
            values[name] = escape(_REQUEST_VALUES[name]())
        return str(values[name])
    # One pass: nothing filled in is searched again.
    return Markup(_PAGE_PLACEHOLDER.sub(fill, page))


def init_fragments(app: Flask, content_version: str) -> None:
    app.extensions["fragment_cache"] = FragmentCache(content_version)
    app.extensions["page_cache"] = FragmentCache(content_version, capacity=MAX_PAGES)
    app.add_template_global(cached_fragment)
    app.add_template_global(TypedValues, "typed_values")
    app.add_template_global(request_value)
    # Every form's token (Flask-WTF's template global, after csrf.init_app) goes through request_value.
    add_request_value("csrf_token", generate_csrf)

    def csrf_token():
        return request_value("csrf_token")
    # Flask-WTF gives templates its csrf_token twice (a global and a context processor): both replaced.
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"csrf_token": csrf_token})
