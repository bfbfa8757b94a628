"""Self-study of the case examples: browse, filter, walk the decision points, compare, keep a record."""


import pytest

from guide.models import TrainingRecord

from tests.conftest import Client, count_rows


@pytest.fixture
def learner(real_app):
    return Client(real_app).sign_in("practitioner")


def guidance(app):
    return app.extensions["guidance"]


def text(response):
    return response.get_data(as_text=True)


def test_all_21_cases_are_listed_and_can_be_filtered(learner, real_app):
    page = text(learner.get("/cases"))
    assert "21 case examples" in page
    for case in guidance(real_app).scenarios.values():
        assert f"/cases/{case.id}" in page
    health = text(learner.get("/cases?sector=health"))
    expected = [c for c in guidance(real_app).scenarios.values() if c.sector == "health"]
    assert f"{len(expected)} case example" in health
    assert all(f"/cases/{c.id}\"" in health for c in expected)
    young = [c for c in guidance(real_app).scenarios.values() if c.child_age == "under_5" and "neglect" in c.concerns]
    both = text(learner.get("/cases?age=under_5&concern=neglect"))
    assert f"{len(young)} case example" in both


def test_a_case_page_quotes_the_facts_with_their_paragraphs(learner, real_app):
    case = guidance(real_app).scenarios["ce13_playgroup"]
    page = text(learner.get(f"/cases/{case.id}"))
    assert case.facts[0].cite in page
    assert case.facts[0].quote.split()[0] in page


@pytest.mark.parametrize("case_id", ["ce01_health_visitor", "ce08_police_nigel", "ce17_interpreters", "ce19_multi_agency_panels"])
def test_a_case_walked_with_the_guidance_agrees_everywhere(learner, real_app, case_id):
    case = guidance(real_app).scenarios[case_id]
    learner.get(f"/cases/{case.id}")
    response = learner.post(f"/cases/{case.id}/start")
    walk_id = response.location.split("/")[2]
    for point in case.decision_points:
        page = text(learner.get(f"/walks/{walk_id}/{point.id}"))
        assert point.question.replace("'", "&#39;") in page or point.question in page
        assert point.view[:40] not in page  # the view is not shown before answering
        response = learner.post(f"/walks/{walk_id}/{point.id}", {"answer": point.guidance})
        assert response.status_code == 303
    assert response.location.endswith(f"/cases/walks/{walk_id}/review")
    review = text(learner.get(response.location))
    n = len(case.decision_points)
    assert f"You agreed with the guidance on {n} of {n} decision points." in review
    assert case.decision_points[-1].view_cite in review


def test_every_case_can_be_walked_end_to_end(learner, real_app):
    for case in guidance(real_app).scenarios.values():
        learner.get(f"/cases/{case.id}")
        walk_id = learner.post(f"/cases/{case.id}/start").location.split("/")[2]
        for point in case.decision_points:
            learner.get(f"/walks/{walk_id}/{point.id}")
            assert learner.post(f"/walks/{walk_id}/{point.id}", {"answer": "not_sure"}).status_code == 303
        review = text(learner.get(f"/cases/walks/{walk_id}/review"))
        assert "Your answers and the guidance" in review, case.id


def test_disagreeing_answers_are_counted_and_kept_as_a_training_record(learner, real_app):
    case = guidance(real_app).scenarios["ce16_voluntary_drop_in"]
    learner.get(f"/cases/{case.id}")
    walk_id = learner.post(f"/cases/{case.id}/start").location.split("/")[2]
    wrong = {}
    for index, point in enumerate(case.decision_points):
        other = next(o.value for o in point.options if o.value != point.guidance)
        value = point.guidance if index else other  # disagree at the first point only
        wrong[point.id] = value
        learner.get(f"/walks/{walk_id}/{point.id}")
        learner.post(f"/walks/{walk_id}/{point.id}", {"answer": value})
    n = len(case.decision_points)
    review = text(learner.get(f"/cases/walks/{walk_id}/review"))
    assert f"on {n - 1} of {n} decision points" in review and "Differs" in review
    assert learner.post(f"/cases/walks/{walk_id}/keep").status_code == 303
    assert learner.post(f"/cases/walks/{walk_id}/keep").status_code == 303  # kept once only
    assert count_rows(real_app, TrainingRecord) == 1
    session = real_app.extensions["db_sessions"]()
    record = session.query(TrainingRecord).one()
    assert (record.scenario_id, record.agreed, record.points, record.answers) == (case.id, n - 1, n, wrong)
    session.close()
    assert f"{n - 1} of {n}" in text(learner.get("/training/records"))


def test_a_case_walk_is_not_a_decision_record(learner, real_app):
    case = guidance(real_app).scenarios["ce02_gp"]
    learner.get(f"/cases/{case.id}")
    walk_id = learner.post(f"/cases/{case.id}/start").location.split("/")[2]
    for point in case.decision_points:
        learner.get(f"/walks/{walk_id}/{point.id}")
        learner.post(f"/walks/{walk_id}/{point.id}", {"answer": point.guidance})
    assert learner.post(f"/walks/{walk_id}/record", {"subject_ref": "x"}).status_code == 409
    assert learner.get(f"/walks/{walk_id}/check").status_code == 404


def test_walking_the_flowchart_for_a_case_compares_with_its_implied_answers(learner, real_app):
    case = guidance(real_app).scenarios["ce06_camhs"]
    learner.get(f"/cases/{case.id}")
    response = learner.post(f"/cases/{case.id}/flowchart")
    walk_id = response.location.split("/")[2]
    assert response.location.endswith("/purpose")
    learner.answer(walk_id, "purpose", "no")
    page = text(learner.get(f"/walks/{walk_id}/outcome"))
    implied = case.answers["purpose"]
    assert f"case example {case.number}" in page
    assert ("Matches" if implied == "no" else "Differs from") in page
