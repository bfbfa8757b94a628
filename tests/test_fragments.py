"""Rendered fragments are reused, and a page made from them is the page made afresh."""

import re

from tests.conftest import SMALL_CONTENT, USERS, Client, build_app

TOKEN = re.compile(r'name="csrf_token" value="[^"]+"')
NONCE = re.compile(r'nonce="[^"]+"')
# The session-timeout warning's token and clock are per session and per second, not per question.
KEEP_ALIVE_TOKEN = re.compile(r'data-(csrf-token|seconds-left)="[^"]+"')


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    text = TOKEN.sub('name="csrf_token" value="…"', response.get_data(as_text=True))
    return KEEP_ALIVE_TOKEN.sub(r'data-\1="…"', NONCE.sub('nonce="…"', text))


def test_a_question_page_from_the_cache_is_the_page_rendered_afresh(tmp_path):
    (tmp_path / "cached").mkdir(), (tmp_path / "fresh").mkdir()
    cached_app = build_app(tmp_path / "cached", SMALL_CONTENT)
    fresh_app = build_app(tmp_path / "fresh", SMALL_CONTENT, CACHE_FRAGMENTS=False)
    cached, fresh = Client(cached_app).sign_in("practitioner"), Client(fresh_app).sign_in("practitioner")
    for client in (cached, fresh):
        client.walk = client.start("mini")
        client.answer(client.walk, "purpose", "yes")
    # The first answer chosen, then changed: the selected radio is part of the fragment's key.
    for url in ("/walks/{walk}/purpose", "/walks/{walk}/consent", "/walks/{walk}/purpose?change=1"):
        first = page(cached, url.format(walk=cached.walk))
        again = page(cached, url.format(walk=cached.walk))
        afresh = page(fresh, url.format(walk=fresh.walk))
        assert first == again == afresh.replace(fresh.walk, cached.walk)
    assert cached_app.extensions["fragment_cache"].hits > 0


def test_an_answer_missing_shows_its_error_though_the_question_was_cached_without_one(app):
    client = Client(app).sign_in("practitioner")
    walk = client.start("mini")
    assert 'checked' not in page(client, f"/walks/{walk}/purpose")
    response = client.post(f"/walks/{walk}/purpose", {})
    assert response.status_code == 400
    assert "govuk-error-message" in response.get_data(as_text=True)
    assert "govuk-error-message" not in page(client, f"/walks/{walk}/purpose")


def test_each_user_signs_out_as_themselves_through_the_shared_navigation(app):
    pat, colin = Client(app).sign_in("practitioner"), Client(app).sign_in("colleague")
    assert f"Sign out <span class=\"govuk-visually-hidden\">{USERS['practitioner']['name']}" in page(pat, "/")
    colins = page(colin, "/")
    assert f"Sign out <span class=\"govuk-visually-hidden\">{USERS['colleague']['name']}" in colins
    assert USERS["practitioner"]["name"] not in colins
    # Each page's form carries that user's own CSRF token, not one kept in the cache.
    tokens = {TOKEN.search(client.get("/").get_data(as_text=True)).group(0) for client in (pat, colin)}
    assert len(tokens) == 2


def test_a_trainer_sees_the_training_link_a_practitioner_does_not(app):
    assert "Training sessions" in page(Client(app).sign_in("trainer"), "/")
    assert "Training sessions" not in page(Client(app).sign_in("practitioner"), "/")


def test_a_fragment_key_names_the_content_version(app):
    cache = app.extensions["fragment_cache"]
    assert cache.key(("question-help", "mini", "purpose")) != type(cache)("another version").key(
        ("question-help", "mini", "purpose"))
