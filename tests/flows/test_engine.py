"""The flowchart engine, in-process: routes, conditions, includes, replay and change, paths."""

from guide.flows import FlowMachine, enumerate_paths, load_content

from tests.conftest import SMALL_CONTENT


def machine(chart_id="mini"):
    content = load_content(SMALL_CONTENT)
    return FlowMachine(content.flowcharts[chart_id])


def test_a_new_walk_starts_at_the_first_question():
    where = machine().replay({})
    assert where.current.id == "purpose" and not where.finished and where.path == []


def test_no_purpose_ends_in_do_not_share():
    where = machine().replay({"purpose": "no"})
    assert where.outcome.id == "no_share" and where.outcome.decision == "do_not_share"


def test_not_sure_leads_to_seek_advice():
    assert machine().replay({"purpose": "not_sure"}).outcome.decision == "seek_advice"


def test_a_route_can_depend_on_an_earlier_answer():
    with_consent = machine().replay({"purpose": "yes", "consent": "yes", "lawful": "yes"})
    without = machine().replay({"purpose": "yes", "consent": "no", "lawful": "yes"})
    assert with_consent.outcome.id == "share_ok"
    assert without.outcome.id == "share_without"


def test_included_questions_are_walked_and_unmapped_outcomes_kept():
    where = machine().replay({"purpose": "yes", "consent": "yes", "lawful": "no"})
    assert [q.id for q, _ in where.path] == ["purpose", "consent", "lawful"]
    assert where.outcome.id == "check_no"


def test_an_included_flowchart_still_walks_on_its_own():
    where = machine("check").replay({"personal": "yes", "lawful": "yes"})
    assert where.outcome.id == "check_ok"


def test_changing_an_answer_keeps_later_answers_that_still_apply():
    answers = {"purpose": "yes", "consent": "yes", "lawful": "yes"}
    answers["consent"] = "no"
    where = machine().replay(answers)
    assert where.finished and where.outcome.id == "share_without"


def test_answers_off_the_path_are_ignored():
    where = machine().replay({"purpose": "no", "consent": "yes", "lawful": "yes"})
    assert [q.id for q, _ in where.path] == ["purpose"]
    assert where.outcome.id == "no_share"


def test_an_answer_the_question_does_not_offer_stops_the_replay_there():
    where = machine().replay({"purpose": "maybe"})
    assert where.current.id == "purpose"


def test_reasons_carry_each_answer_and_its_citation():
    reasons = machine().replay({"purpose": "yes", "consent": "no", "lawful": "yes"}).reasons()
    assert [r["question_id"] for r in reasons] == ["purpose", "consent", "lawful"]
    assert reasons[1]["reason"] == "Consent refused." and reasons[1]["cite"] == "WTD App3 §4.13"


def test_every_path_is_enumerated_and_replays_to_its_outcome():
    content = load_content(SMALL_CONTENT)
    for chart in content.flowcharts.values():
        runner = FlowMachine(chart)
        paths = enumerate_paths(chart)
        assert paths
        for path in paths:
            assert runner.replay(path.answers).outcome.id == path.outcome
    assert len(enumerate_paths(content.flowcharts["mini"])) == 9


def test_the_content_version_changes_when_content_changes(tmp_path):
    import shutil
    shutil.copytree(SMALL_CONTENT, tmp_path / "c")
    before = load_content(tmp_path / "c").version
    path = tmp_path / "c" / "flowcharts.yaml"
    path.write_text(path.read_text().replace("Ask your manager.", "Ask your line manager."))
    assert load_content(tmp_path / "c").version != before
