"""Rendered fragments are reused, and a page made from them is the page made afresh."""

import re

from tests.conftest import REAL_CONTENT, SMALL_CONTENT, USERS, Client, build_app, designate

TOKEN = re.compile(r'name="csrf_token" value="[^"]+"')
NONCE = re.compile(r'nonce="[^"]+"')
# The session-timeout warning's token and clock are per session and per second, not per question.
KEEP_ALIVE_TOKEN = re.compile(r'data-(csrf-token|seconds-left)="[^"]+"')


def page(client: Client, url: str, **kwargs) -> str:
    response = client.get(url, **kwargs)
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


# --- whole question pages from the page cache ---------------------------------------------------------

def question_url(client: Client, walk: str) -> str:
    response = client.http.get(f"/walks/{walk}/outcome")  # an unfinished walk is sent to its question
    assert response.status_code == 302, response.status_code
    return response.location


def test_question_pages_from_the_page_cache_are_the_pages_rendered_afresh_for_every_role_and_flowchart(tmp_path):
    (tmp_path / "cached").mkdir(), (tmp_path / "fresh").mkdir()
    cached_app = build_app(tmp_path / "cached", REAL_CONTENT)
    fresh_app = build_app(tmp_path / "fresh", REAL_CONTENT, CACHE_FRAGMENTS=False)
    htmx = {"HX-Request": "true", "HX-Target": "page-container"}
    for who in ("practitioner", "trainer", "records"):
        for flowchart in ("confidentiality", "referral", "urgent_action"):
            seen = []
            for app in (cached_app, fresh_app):
                client = Client(app).sign_in(who)
                walk = client.start(flowchart)
                url = question_url(client, walk)
                pages = [page(client, url), page(client, url), page(client, url + "?change=1"),
                         page(client, url, headers=htmx)]
                seen.append([text.replace(walk, "WALK") for text in pages])
            assert seen[0][0] == seen[0][1] == seen[1][0], (who, flowchart)
            assert seen[0][2:] == seen[1][2:], (who, flowchart)
    assert cached_app.extensions["page_cache"].hits > 0


def test_a_question_page_cached_for_one_practitioner_is_anothers_own_when_served_to_them(app):
    pat, colin = Client(app).sign_in("practitioner"), Client(app).sign_in("colleague")
    pats_walk, colins_walk = pat.start("mini"), colin.start("mini")
    hits = app.extensions["page_cache"].hits
    pats = pat.get(f"/walks/{pats_walk}/purpose")
    colins = colin.get(f"/walks/{colins_walk}/purpose")
    assert app.extensions["page_cache"].hits == hits + 1  # Colin's page came from the cache Pat's filled
    pats_text, colins_text = pats.get_data(as_text=True), colins.get_data(as_text=True)
    # Each sees their own name, walk, form token and script nonce (the one their page's policy allows).
    assert USERS["colleague"]["name"] in colins_text and USERS["practitioner"]["name"] not in colins_text
    assert colins_walk in colins_text and pats_walk not in colins_text
    assert TOKEN.findall(pats_text)[0] != TOKEN.findall(colins_text)[0]
    assert len(set(TOKEN.findall(colins_text))) == 1  # the sign-out form and the answer form: the same token
    for response, text in ((pats, pats_text), (colins, colins_text)):
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
        assert f'nonce="{nonce}"' in text
        assert "\ue002" not in text and "\ue003" not in text
    # What the cache keeps is neither's: no name, walk, token or nonce.
    kept = "".join(app.extensions["page_cache"]._fragments.values())
    for text in (pats_text, colins_text):
        nonce = re.search(r'nonce="([^"]+)"', text).group(1)
        token = re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)
        for own in (nonce, token, pats_walk, colins_walk, USERS["practitioner"]["name"], USERS["colleague"]["name"]):
            assert own not in kept
    # Colin can answer with the token his page gave him.
    colin.token = re.search(r'name="csrf_token" value="([^"]+)"', colins_text).group(1)
    assert colin.post(f"/walks/{colins_walk}/purpose", {"answer": "yes"}).status_code == 303


def test_the_cached_page_shows_the_answer_this_walk_gave(app):
    client = Client(app).sign_in("practitioner")
    first, second = client.start("mini"), client.start("mini")
    client.answer(first, "purpose", "yes")
    page(client, f"/walks/{first}/purpose")
    assert 'value="yes" checked' in page(client, f"/walks/{first}/purpose")
    assert "checked" not in page(client, f"/walks/{second}/purpose")


def test_the_childrens_index_link_is_for_designated_users_though_the_navigation_is_cached(app):
    designate(app, "colleague")
    pat, colin = Client(app).sign_in("practitioner"), Client(app).sign_in("colleague")  # the same role
    for _ in range(2):
        assert "Children&#39;s index" not in page(pat, "/") and "Children's index" not in page(pat, "/")
        assert "Children" in page(colin, "/").split("govuk-service-navigation__list")[1].split("</ul>")[0]
