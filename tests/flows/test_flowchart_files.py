"""A flowchart kept in a file of its own is loaded like an inline one, and its problems name that file."""

import shutil

import pytest
import yaml

from guide.flows import ContentError, load_content
from tests.conftest import REAL_CONTENT, SMALL_CONTENT


@pytest.fixture
def split_content(tmp_path):
    """The small fixture content with its first flowchart moved into flowcharts/<id>.yaml."""
    target = tmp_path / "content"
    shutil.copytree(SMALL_CONTENT, target)
    top = yaml.safe_load((target / "flowcharts.yaml").read_text())
    chart = top["flowcharts"][0]
    (target / "flowcharts").mkdir()
    (target / "flowcharts" / f"{chart['id']}.yaml").write_text(yaml.safe_dump(chart, sort_keys=False))
    top["flowcharts"][0] = {"file": f"flowcharts/{chart['id']}.yaml"}
    (target / "flowcharts.yaml").write_text(yaml.safe_dump(top, sort_keys=False))
    return target, chart["id"]


def test_a_flowchart_in_its_own_file_loads_the_same(split_content):
    directory, chart_id = split_content
    split = load_content(directory).flowcharts[chart_id]
    inline = load_content(SMALL_CONTENT).flowcharts[chart_id]
    assert split.questions.keys() == inline.questions.keys()
    assert split.outcomes.keys() == inline.outcomes.keys()
    assert split.source.endswith(f"flowcharts/{chart_id}.yaml")


def test_a_problem_in_a_flowchart_file_names_that_file_and_line(split_content):
    directory, chart_id = split_content
    path = directory / "flowcharts" / f"{chart_id}.yaml"
    lines = path.read_text().splitlines()
    number = next(i for i, line in enumerate(lines, 1) if line.strip().startswith("next:"))
    lines[number - 1] = lines[number - 1].split("next:")[0] + "next: nowhere_at_all"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ContentError) as caught:
        load_content(directory)
    found = [str(issue) for issue in caught.value.issues]
    assert any(f.startswith(f"{path}:{number}:") and "nowhere_at_all" in f for f in found), found


def test_a_missing_or_escaping_flowchart_file_is_refused(split_content):
    directory, _ = split_content
    top = directory / "flowcharts.yaml"
    for name in ("flowcharts/missing.yaml", "../outside.yaml"):
        data = yaml.safe_load(top.read_text())
        data["flowcharts"][0] = {"file": name}
        top.write_text(yaml.safe_dump(data, sort_keys=False))
        with pytest.raises(ContentError) as caught:
            load_content(directory)
        assert any(str(issue).startswith(f"{top}:") and name in str(issue) for issue in caught.value.issues)


def test_the_real_content_keeps_each_flowchart_in_its_own_file():
    top = yaml.safe_load((REAL_CONTENT / "flowcharts.yaml").read_text())
    files = [entry["file"] for entry in top["flowcharts"]]
    charts = load_content(REAL_CONTENT).flowcharts
    assert sorted(f"flowcharts/{chart_id}.yaml" for chart_id in charts) == sorted(files)
