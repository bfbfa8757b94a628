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
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from flask import Flask, current_app
from markupsafe import Markup

MAX_FRAGMENTS = 4096


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
    for placeholder, fresh in (fill or {}).items():
        markup = Markup(markup.replace(placeholder, Markup(fresh)))
    return markup


def init_fragments(app: Flask, content_version: str) -> None:
    app.extensions["fragment_cache"] = FragmentCache(content_version)
    app.add_template_global(cached_fragment)
