"""The record form on the outcome page is drawn from a cached fragment: what someone typed is put back into
their own page, escaped, and never kept in the cache that every user of the worker shares."""

import re

from tests.conftest import REAL_CONTENT, Client, build_app, designate
from tests.records.test_record_form import WITHOUT_CONSENT, walk_to_outcome
from tests.test_fragments import page

TYPED = {
    "subject_ref": "REF-<b>Quill</b>-77",
    "information_shared": "Zephyr's bruising & weight, \"seen\" at the home visit",
    "recipient_name": "Oriel Marchbanks",
    "notes": "<script>alert('quill')</script>",
    "shared_on-day": "31", "shared_on-month": "2", "shared_on-year": "2026",  # not a date: an error
}


def cached_and_fresh(tmp_path):
    (tmp_path / "cached").mkdir(), (tmp_path / "fresh").mkdir()
    return build_app(tmp_path / "cached", REAL_CONTENT), build_app(tmp_path / "fresh", REAL_CONTENT,
                                                                    CACHE_FRAGMENTS=False)


def kept_in_cache(app) -> str:
    """Everything the fragment and page caches hold (the outcome page is kept whole too)."""
    return "".join([*app.extensions["fragment_cache"]._fragments.values(),
                    *app.extensions["page_cache"]._fragments.values()])


def test_the_outcome_page_from_the_cache_is_the_page_rendered_afresh(tmp_path):
    cached_app, fresh_app = cached_and_fresh(tmp_path)
    pages = []
    for app in (cached_app, fresh_app):
        client = Client(app).sign_in("practitioner")
        walk = walk_to_outcome(client, dict(WITHOUT_CONSENT))
        first = page(client, f"/walks/{walk}/outcome")
        assert first == page(client, f"/walks/{walk}/outcome")
        errors = client.post(f"/walks/{walk}/record", {**TYPED, "share_method": "other", "person_told": "no"})
        assert errors.status_code == 400
        pages.append([first.replace(walk, "WALK"), errors.get_data(as_text=True).replace(walk, "WALK")])
    (cached_first, cached_errors), (fresh_first, fresh_errors) = pages
    assert cached_first == fresh_first
    token = re.compile(r'(name="csrf_token" value|data-csrf-token|data-seconds-left|nonce)="[^"]+"')
    assert token.sub("…", cached_errors) == token.sub("…", fresh_errors)
    assert cached_app.extensions["fragment_cache"].hits > 0


def test_what_was_typed_comes_back_escaped_and_is_not_kept_in_the_cache(real_app):
    client = Client(real_app).sign_in("practitioner")
    walk = walk_to_outcome(client, dict(WITHOUT_CONSENT))
    response = client.post(f"/walks/{walk}/record", TYPED)
    assert response.status_code == 400
    shown = response.get_data(as_text=True)
    assert 'value="REF-&lt;b&gt;Quill&lt;/b&gt;-77"' in shown
    assert "&lt;script&gt;alert(&#39;quill&#39;)&lt;/script&gt;</textarea>" in shown
    assert "<script>alert" not in shown
    assert "Zephyr&#39;s bruising &amp; weight, &#34;seen&#34; at the home visit</textarea>" in shown
    assert 'value="31"' in shown and "Enter the date the information is shared" in shown
    kept = kept_in_cache(real_app)
    assert "record-fields" not in kept  # keys are hashed
    assert real_app.extensions["page_cache"]._fragments  # the outcome page with its errors was kept whole
    for word in ("Quill", "quill", "Zephyr", "Marchbanks", walk):
        assert word not in kept
    assert "\ue000" in kept  # the form's shape is kept, with places for the text


def test_two_practitioners_each_see_only_what_they_typed(real_app):
    pat, colin = Client(real_app).sign_in("practitioner"), Client(real_app).sign_in("colleague")
    seen = {}
    for client, name in ((pat, "Pat's child PX-1"), (colin, "Colin's child CX-2")):
        walk = walk_to_outcome(client, dict(WITHOUT_CONSENT))
        response = client.post(f"/walks/{walk}/record", {"subject_ref": name, "recipient_name": "Same shape"})
        assert response.status_code == 400
        seen[name] = response.get_data(as_text=True)
    assert "PX-1" in seen["Pat's child PX-1"] and "CX-2" not in seen["Pat's child PX-1"]
    assert "CX-2" in seen["Colin's child CX-2"] and "PX-1" not in seen["Colin's child CX-2"]


def test_text_that_looks_like_a_placeholder_is_shown_as_typed(real_app):
    client = Client(real_app).sign_in("practitioner")
    walk = walk_to_outcome(client, dict(WITHOUT_CONSENT))
    response = client.post(f"/walks/{walk}/record", {"notes": "\ue000subject_ref\ue001", "subject_ref": "SECRET-9"})
    notes = response.get_data(as_text=True).split('id="notes"')[1].split("</textarea>")[0]
    assert "SECRET-9" not in notes


def test_the_index_link_is_for_designated_users_and_their_own_walk(tmp_path):
    app = build_app(tmp_path, REAL_CONTENT)
    designate(app, "colleague")
    pat, colin = Client(app).sign_in("practitioner"), Client(app).sign_in("colleague")
    pats_walk, colins_walk = walk_to_outcome(pat, dict(WITHOUT_CONSENT)), walk_to_outcome(colin, dict(WITHOUT_CONSENT))
    assert "/index?walk=" not in page(pat, f"/walks/{pats_walk}/outcome")
    colins = page(colin, f"/walks/{colins_walk}/outcome")
    assert f"/index?walk={colins_walk}" in colins and pats_walk not in colins
    # Pat's page again, after Colin's filled the cache: still no link.
    assert "/index?walk=" not in page(pat, f"/walks/{pats_walk}/outcome")


def test_notes_typed_open_their_section_and_none_typed_leave_it_folded(real_app):
    client = Client(real_app).sign_in("practitioner")
    walk = walk_to_outcome(client, dict(WITHOUT_CONSENT))
    details = re.compile(r'<details class="govuk-details" ?(open)?>\s*<summary class="govuk-details__summary">'
                         r'<span class="govuk-details__summary-text">Add other practitioners')
    # The same problems both times (so the same errors in the key): only whether notes were typed differs.
    with_notes = client.post(f"/walks/{walk}/record", {"notes": "A note"}).get_data(as_text=True)
    without = client.post(f"/walks/{walk}/record", {"notes": ""}).get_data(as_text=True)
    assert details.search(with_notes).group(1) == "open"
    assert details.search(without).group(1) is None


SAVE = {"subject_ref": "RF-9", "advice_sought": "no", "information_shared": "Bruising.", "recipient_name": "Sam",
        "recipient_job_title": "Social worker", "recipient_organisation": "Northshire", "recipient_contact": "0100",
        "share_method": "phone", "shared_on-day": "1", "shared_on-month": "12", "shared_on-year": "2026",
        "person_told": "yes", "basis_detail": "Risk of significant harm.", "checklist_confirmed": "yes"}


def test_a_records_notes_are_formatted_but_not_kept_in_the_markdown_cache(real_app):
    from guide.rendering import render_markdown
    client = Client(real_app).sign_in("practitioner")
    walk = walk_to_outcome(client, dict(WITHOUT_CONSENT))
    response = client.post(f"/walks/{walk}/record", {**SAVE, "notes": "Seen by *Quillfeather* on Tuesday"})
    assert response.status_code == 303, response.get_data(as_text=True)
    record_url = response.location.removesuffix("/saved")
    client.get(record_url)
    before = render_markdown.cache_info()
    shown = client.get(record_url).get_data(as_text=True)
    assert "Seen by <em>Quillfeather</em> on Tuesday" in shown
    # The same page again asks the content cache only what it already holds: the notes went round it.
    after = render_markdown.cache_info()
    assert after.misses == before.misses and after.currsize == before.currsize
    render_markdown("Seen by *Quillfeather* on Tuesday")
    assert render_markdown.cache_info().misses == after.misses + 1  # never there before


def test_each_saved_page_names_its_own_record_though_the_page_is_kept_whole(tmp_path):
    cached_app, fresh_app = cached_and_fresh(tmp_path)
    saved = {}
    for name, app in (("cached", cached_app), ("fresh", fresh_app)):
        for who in ("practitioner", "colleague"):
            client = Client(app).sign_in(who)
            walk = walk_to_outcome(client, dict(WITHOUT_CONSENT))
            response = client.post(f"/walks/{walk}/record", SAVE)
            assert response.status_code == 303, response.get_data(as_text=True)
            record_id = response.location.split("/")[2]
            saved[name, who] = (record_id, page(client, response.location))
    (pats_id, pats), (colins_id, colins) = saved["cached", "practitioner"], saved["cached", "colleague"]
    assert cached_app.extensions["page_cache"].hits > 0
    reference = re.compile(r"DR-\w{4}-\w{4}-\w{4}")
    assert f"/records/{pats_id}" in pats and colins_id not in pats
    assert f"/records/{colins_id}" in colins and pats_id not in colins
    assert reference.findall(pats) != reference.findall(colins)
    # The same as the page made afresh, but for whose record it is.
    fresh_id, fresh = saved["fresh", "colleague"]
    assert reference.sub("REF", colins.replace(colins_id, "ID")) == reference.sub("REF", fresh.replace(fresh_id, "ID"))
