"""The 21 case examples: they load, they are faithful to the guidance, and they can be walked."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from guide.flows import ContentError, FlowMachine
from guide.flows.content import CITE_PATTERN
from guide.training.case_examples import REVIEW_OUTCOME, load_scenarios

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "content" / "scenarios"
XG_SEED = ROOT.parent / "shared" / "seeds" / "001_850af2916e15fff7.txt"

# XG puts each paragraph number on its own tab-indented line ("\t8.11").
PARAGRAPH_LINE = re.compile(r"^ ?\t(\d+(?:\.\d+)?)\s*$")
SINGLE_XG_CITE = re.compile(r"^XG §(\d+\.\d+)$")
XG_RANGE = re.compile(r"^XG §(\d+)\.(\d+)(?:–(?:\d+\.)?(\d+))?$")


def normalise(text: str) -> str:
    """Compare words, not typography: quotes, apostrophes, dashes and spacing."""
    for curly, plain in (("‘", "'"), ("’", "'"), ("“", '"'), ("”", '"'), ("–", "-"), ("—", "-")):
        text = text.replace(curly, plain)
    return " ".join(text.split())


@pytest.fixture(scope="module")
def scenarios():
    return load_scenarios(SCENARIOS)


@pytest.fixture(scope="module")
def xg_paragraphs() -> dict[str, str]:
    """XG's main body (before Appendix 1), paragraph number → normalised text."""
    if not XG_SEED.exists():
        pytest.skip(f"seed text not found at {XG_SEED}")
    paragraphs: dict[str, list[str]] = {}
    current = None
    for line in XG_SEED.read_text(encoding="utf-8").splitlines():
        if line.strip() == "Appendix 1":
            break
        match = PARAGRAPH_LINE.match(line)
        if match:
            current = match.group(1)
            paragraphs.setdefault(current, [])
        elif current:
            paragraphs[current].append(line)
    return {number: normalise("\n".join(lines)) for number, lines in paragraphs.items()}


def paragraphs_in(cite: str) -> list[str]:
    """'XG §10.4–10.5' → ['10.4', '10.5']; 'XG §8.11' → ['8.11']."""
    match = XG_RANGE.match(cite)
    assert match, f"scenario cite '{cite}' should be one XG paragraph or a range in one section"
    section, first, last = match.group(1), int(match.group(2)), int(match.group(3) or match.group(2))
    return [f"{section}.{n}" for n in range(first, last + 1)]


def test_all_21_load_with_numbers_1_to_21_once_each(scenarios):
    assert sorted(s.number for s in scenarios.values()) == list(range(1, 22))
    assert [s.number for s in scenarios.values()] == list(range(1, 22)), "returned in case order"
    assert len({s.id for s in scenarios.values()}) == 21


def test_every_decision_point_has_a_cited_guidance_view(scenarios):
    for scenario in scenarios.values():
        assert len(scenario.decision_points) >= 2, scenario.id
        for point in scenario.decision_points:
            where = f"{scenario.id}/{point.id}"
            assert point.view.strip(), where
            assert CITE_PATTERN.search(point.view_cite), where
            assert CITE_PATTERN.search(point.cite), where
            assert point.guidance_option is not None, where
            assert point.option("not_sure") is not None, where


def test_every_fact_is_quoted_verbatim_from_the_paragraph_it_cites(scenarios, xg_paragraphs):
    for scenario in scenarios.values():
        case_paragraphs = paragraphs_in(scenario.cite)
        assert all(p in xg_paragraphs for p in case_paragraphs), scenario.cite
        assert scenario.facts, scenario.id
        for fact in scenario.facts:
            match = SINGLE_XG_CITE.match(fact.cite)
            assert match, f"{scenario.id}: fact cite '{fact.cite}' should name one XG paragraph"
            paragraph = match.group(1)
            assert paragraph in case_paragraphs, f"{scenario.id}: fact from §{paragraph} is outside the case ({scenario.cite})"
            assert normalise(fact.quote) in xg_paragraphs[paragraph], (
                f"{scenario.id}: not a verbatim quote of XG §{paragraph}: {fact.quote!r}"
            )


def test_each_case_cites_its_own_case_example(scenarios, xg_paragraphs):
    """The scenario's paragraph range holds 'Case Example N' for its own number, and no other."""
    for scenario in scenarios.values():
        text = " ".join(xg_paragraphs[p] for p in paragraphs_in(scenario.cite))
        found = [int(n) for n in re.findall(r"Case [Ee]xample (\d+)", text)]
        assert found == [scenario.number], f"{scenario.id} ({scenario.cite}) contains case examples {found}"


def test_outcomes_are_cited_to_the_case(scenarios):
    for scenario in scenarios.values():
        for outcome in (scenario.sharing, scenario.not_sharing):
            if outcome is not None:
                assert outcome.text and CITE_PATTERN.search(outcome.cite), scenario.id


@pytest.mark.parametrize("number", range(1, 22))
def test_each_scenario_walks_end_to_end_with_the_guidance_answers(scenarios, number):
    scenario = next(s for s in scenarios.values() if s.number == number)
    chart = scenario.as_flowchart()
    machine = FlowMachine(chart)

    assert machine.replay({}).current.id == scenario.decision_points[0].id
    assert all(q.help == "" for q in chart.questions.values()), "views are not shown before answering"

    position = machine.replay(scenario.guidance_answers())
    assert position.finished
    assert position.outcome.id == REVIEW_OUTCOME and position.outcome.decision == "case_review"
    assert [(q.id, v) for q, v in position.path] == list(scenario.guidance_answers().items())

    # "I'm not sure" at every point still reaches the review: the room sees the guidance either way.
    unsure = {p.id: "not_sure" for p in scenario.decision_points}
    assert machine.replay(unsure).outcome.id == REVIEW_OUTCOME


# -- bad input -------------------------------------------------------------------------------

def _fixture_dir(tmp_path: Path, name: str, text: str | None = None) -> Path:
    """A directory holding one good scenario, and optionally one more file."""
    shutil.copy(SCENARIOS / "ce02-gp.yaml", tmp_path / "ce02-gp.yaml")
    if text is not None:
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def _broken_copy(replace: str, by: str) -> str:
    text = (SCENARIOS / "ce13-playgroup.yaml").read_text(encoding="utf-8")
    assert replace in text
    return text.replace(replace, by, 1)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_directory_with_fewer_files_loads(tmp_path):
    loaded = load_scenarios(_fixture_dir(tmp_path, ""))
    assert list(loaded) == ["ce02_gp"]


def test_bad_yaml_names_file_and_line(tmp_path):
    text = _broken_copy("title: Playgroup", "title: [Playgroup")
    with pytest.raises(ContentError) as error:
        load_scenarios(_fixture_dir(tmp_path, "ce13-playgroup.yaml", text))
    [issue] = error.value.issues
    assert issue.path.endswith("ce13-playgroup.yaml")
    assert issue.line is not None and "invalid YAML" in issue.message


def test_unknown_key_names_file_and_line(tmp_path):
    text = _broken_copy("service: playgroup", "service: playgroup\nsetting: nursery")
    with pytest.raises(ContentError) as error:
        load_scenarios(_fixture_dir(tmp_path, "ce13-playgroup.yaml", text))
    [issue] = error.value.issues
    assert issue.path.endswith("ce13-playgroup.yaml")
    assert issue.line == _line_of(text, "setting: nursery")
    assert "unknown key 'setting'" in issue.message
    assert "ce13-playgroup.yaml:" in str(error.value)


def test_guidance_not_an_option_names_file_and_line(tmp_path):
    text = _broken_copy("guidance: professional_judgement", "guidance: refer_to_police")
    with pytest.raises(ContentError) as error:
        load_scenarios(_fixture_dir(tmp_path, "ce13-playgroup.yaml", text))
    [issue] = error.value.issues
    assert issue.line == _line_of(text, "guidance: refer_to_police")
    assert "guidance 'refer_to_police' is not one of its option values" in issue.message


def test_every_problem_is_reported_at_once(tmp_path):
    text = _broken_copy("sector: early_years", "sector: nursery")
    text = text.replace("child_age: under_5", "child_age: toddler")
    text = text.replace("  purpose: \"yes\"", "  purpose: maybe")
    text = text.replace("cite: XG §10.2\nsector", "cite: page 12\nsector")
    text = text.replace('      - {value: not_sure, label: "I\'m not sure"}\n    guidance: "yes"', '    guidance: "yes"', 1)
    with pytest.raises(ContentError) as error:
        load_scenarios(_fixture_dir(tmp_path, "ce13-playgroup.yaml", text))
    messages = "\n".join(i.message for i in error.value.issues)
    assert "sector 'nursery'" in messages
    assert "child_age 'toddler'" in messages
    assert "purpose 'maybe'" in messages
    assert "cite 'page 12'" in messages
    assert "must include 'not_sure'" in messages
    assert all(i.line for i in error.value.issues)


def test_duplicate_number_and_id_across_files(tmp_path):
    _fixture_dir(tmp_path, "")
    text = (SCENARIOS / "ce02-gp.yaml").read_text(encoding="utf-8")
    (tmp_path / "ce02-gp-copy.yaml").write_text(text.replace("id: ce02_gp", "id: ce02_gp_copy"), encoding="utf-8")
    with pytest.raises(ContentError) as error:
        load_scenarios(tmp_path)
    assert any("number '2' is also used" in i.message for i in error.value.issues)


def test_number_out_of_range_and_file_name_mismatch(tmp_path):
    text = _broken_copy("number: 13", "number: 22")
    with pytest.raises(ContentError) as error:
        load_scenarios(_fixture_dir(tmp_path, "ce13-playgroup.yaml", text))
    assert any("number must be a whole number from 1 to 21" in i.message for i in error.value.issues)
    text = _broken_copy("id: ce13_playgroup", "id: ce13_nursery")
    (tmp_path / "ce13-playgroup.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ContentError) as error:
        load_scenarios(tmp_path)
    assert any("should be 'ce13_playgroup'" in i.message for i in error.value.issues)


def test_the_guidance_answer_is_not_always_shown_first(scenarios):
    """Written down, the guidance's answer mostly comes first; a room that always tapped the first
    answer would seem to agree with the guidance. Shown in a fixed order drawn from each point's id."""
    points = [p for case in scenarios.values() for p in case.decision_points]
    guidance_first = sum(p.options[0].value == p.guidance for p in points)
    assert guidance_first <= 0.6 * len(points)
    assert all(p.options[-1].value == "not_sure" for p in points)
    again = load_scenarios(SCENARIOS)
    assert all([o.value for o in p.options] == [o.value for o in q.options]
               for case in scenarios.values() for p, q in zip(case.decision_points, again[case.id].decision_points))


def test_the_answers_shown_are_the_answers_written(scenarios):
    for path in sorted(SCENARIOS.glob("ce*.yaml")):
        written = yaml.safe_load(path.read_text(encoding="utf-8"))
        case = scenarios[written["id"]]
        for raw, point in zip(written["decision_points"], case.decision_points):
            assert sorted((o["value"], o["label"]) for o in raw["options"]) == sorted((o.value, o.label) for o in point.options)
            assert point.guidance == raw["guidance"]
