"""Templates see the app's globals and their own, through the set-keyed globals map (guide/__init__.py)."""

from flask import render_template_string


def test_an_imported_macro_sees_the_globals_and_a_template_its_own(app):
    env = app.jinja_env
    page = env.from_string("{{ own }} {{ service_name_global }}", globals={"own": "mine"})
    env.globals["service_name_global"] = "The guide"
    assert page.globals.keys() == {"own"} | set(env.globals)
    assert page.render() == "mine The guide"
    with app.test_request_context("/"):
        # A GOV.UK macro imported from the page renders as before (its template module is reused).
        html = render_template_string('{% from "govuk_frontend_jinja/components/back-link/macro.html" import govukBackLink %}'
                                      '{{ govukBackLink({"href": "/before", "text": "Back"}) }}'
                                      '{{ govukBackLink({"href": "/again", "text": "Back"}) }}')
    assert 'href="/before"' in html and 'href="/again"' in html
