"""Broken content is refused with file and line, by the loader, the CLI and the app factory."""

import shutil
import subprocess
import sys

import pytest

from guide import create_app
from guide.flows import ContentError, load_content

from tests.conftest import ROOT, SMALL_CONTENT


@pytest.fixture
def content_dir(tmp_path):
    target = tmp_path / "content"
    shutil.copytree(SMALL_CONTENT, target)
    return target


def edit(content_dir, old, new, count=1):
    path = content_dir / "flowcharts.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, count))
    return path


def line_of(path, needle):
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


def problems(content_dir) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_content(content_dir)
    return [str(issue) for issue in caught.value.issues]


def test_the_fixture_content_is_valid():
    assert load_content(SMALL_CONTENT).flowcharts


def test_invalid_yaml_names_file_and_line(content_dir):
    path = edit(content_dir, "title: Mini flowchart", "title: [Mini flowchart")
    found = problems(content_dir)
    assert len(found) == 1 and "invalid YAML" in found[0]
    assert found[0].startswith(f"{path}:")
    reported_line = int(found[0].split(":")[1])
    assert abs(reported_line - line_of(path, "[Mini flowchart")) <= 2


def test_an_unknown_target_is_named_with_its_line(content_dir):
    path = edit(content_dir, "next: no_share}", "next: nowhere}")
    found = problems(content_dir)
    assert any("unknown node 'nowhere'" in p and f":{line_of(path, 'nowhere')}:" in p for p in found), found


def test_an_unreachable_node_is_reported(content_dir):
    path = edit(content_dir, "- {value: \"no\", label: \"No\", reason: No purpose., next: no_share}",
                "- {value: \"no\", label: \"No\", reason: No purpose., next: advice}")
    found = problems(content_dir)
    assert any("'no_share' can never be reached" in p and f":{line_of(path, 'id: no_share')}:" in p for p in found), found


def test_a_missing_citation_is_reported(content_dir):
    path = edit(content_dir, "        cite: WTD App3 §4.13\n", "")
    found = problems(content_dir)
    assert any("question 'consent': missing 'cite'" in p for p in found), found
    assert str(path) in found[0]


def test_a_citation_must_name_a_source_and_paragraph(content_dir):
    edit(content_dir, "cite: WTD App3 §4.13", "cite: the guidance")
    assert any("does not name a source and paragraph" in p for p in problems(content_dir))


def test_missing_help_is_reported(content_dir):
    edit(content_dir, "        help: Consent help.\n", "")
    assert any("question 'consent': missing 'help'" in p for p in problems(content_dir))


def test_a_duplicate_id_is_reported(content_dir):
    edit(content_dir, "      - id: consent\n", "      - id: purpose\n")
    found = problems(content_dir)
    assert any("duplicate node id 'purpose'" in p for p in found), found


def test_a_loop_is_a_path_that_never_ends(content_dir):
    edit(content_dir, '- {value: "yes", label: "Yes", reason: Consent given., next: lawful}',
         '- {value: "yes", label: "Yes", reason: Consent given., next: purpose}')
    assert any("a loop: purpose → consent → purpose" in p for p in problems(content_dir))


def test_every_question_must_offer_not_sure(content_dir):
    edit(content_dir, "          - {value: not_sure, label: \"I'm not sure\", reason: Unsure of consent., next: advice}\n", "")
    assert any("question 'consent': every question must offer the answer 'not_sure'" in p for p in problems(content_dir))


def test_a_misspelt_key_is_reported(content_dir):
    path = edit(content_dir, "        help: Consent help.", "        hlep: Consent help.")
    found = problems(content_dir)
    assert any("unknown key 'hlep'" in p and f":{line_of(path, 'hlep')}:" in p for p in found), found


def test_an_unknown_decision_is_reported(content_dir):
    edit(content_dir, "outcome: seek_advice\n        title: Seek advice\n        body: Ask your manager.",
         "outcome: ask_someone\n        title: Seek advice\n        body: Ask your manager.")
    assert any("unknown decision 'ask_someone'" in p for p in problems(content_dir))


def test_a_condition_on_an_unknown_answer_is_reported(content_dir):
    edit(content_dir, 'when: {consent: "no"}', 'when: {consent: "perhaps"}')
    assert any("condition 'consent: perhaps' is not an answer" in p for p in problems(content_dir))


def test_every_problem_is_reported_at_once(content_dir):
    edit(content_dir, "cite: WTD App3 §4.13", "cite: nowhere")
    edit(content_dir, "        help: Consent help.", "        hlep: Consent help.")
    assert len(problems(content_dir)) >= 2


def test_the_app_refuses_to_start_on_broken_content(content_dir, tmp_path):
    edit(content_dir, "next: no_share}", "next: nowhere}")
    with pytest.raises(ContentError):
        create_app({"CONTENT_DIR": content_dir, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SECRET_KEY": "x"})


def test_the_cli_check_names_file_and_line(content_dir):
    path = edit(content_dir, "next: no_share}", "next: nowhere}")
    flask = [sys.executable, "-m", "flask", "--app", "guide", "content", "check", "--dir", str(content_dir)]
    result = subprocess.run(flask, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1
    assert f"{path}:{line_of(path, 'nowhere')}: question 'purpose' answer 'no': goes to unknown node 'nowhere'" in result.stderr


def test_the_cli_check_passes_good_content():
    flask = [sys.executable, "-m", "flask", "--app", "guide", "content", "check", "--dir", str(SMALL_CONTENT)]
    result = subprocess.run(flask, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "mini: 3 questions, 6 outcomes, 9 paths" in result.stdout


def test_a_question_cannot_take_the_name_of_a_walk_page(content_dir):
    path = edit(content_dir, "      - id: consent\n", "      - id: record\n")
    found = problems(content_dir)
    assert any("node id 'record' is reserved" in p and f":{line_of(path, 'id: record')}:" in p for p in found), found


def test_a_byte_that_is_not_utf8_names_file_and_line(content_dir):
    path = content_dir / "flowcharts.yaml"
    lines = path.read_bytes().split(b"\n")
    lines[6] = lines[6] + b" caf\xe9"
    path.write_bytes(b"\n".join(lines))
    found = problems(content_dir)
    assert found == [f"{path}:7: not UTF-8: byte 0xe9 at column {len(lines[6])} (save the file as UTF-8)"]
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "guide", "content", "check", "--dir", str(content_dir)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1 and f"{path}:7: not UTF-8" in result.stderr and "Traceback" not in result.stderr
