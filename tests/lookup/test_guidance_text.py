"""The guidance's own words: paragraphs and glossary load, are verbatim, and are found by reference."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from guide.flows import ContentError
from guide.lookup import find_references, find_terms, load_guidance_text, normalise_reference

from tests.conftest import REAL_CONTENT, ROOT

SEEDS = ROOT.parent / "shared" / "seeds"
SEED_FILES = {
    "IDX": "000_4d728fcdfdf41571.txt",
    "XG": "001_850af2916e15fff7.txt",
    "ISP": "002_0be96cb6a1baf838.txt",
    "WTD": "003_b182d06a23f50096.txt",
    "NEWS": "004_c2f07ab314be0d0f.txt",
}
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason="the source documents are not alongside the repository")


@pytest.fixture(scope="module")
def text():
    return load_guidance_text(REAL_CONTENT)


def ids_of(text, prefix: str) -> list[str]:
    return [pid for pid in text.paragraphs if pid.startswith(prefix + " §")]


def span(section: int, first: int, last: int) -> list[str]:
    return [f"{section}.{n}" for n in range(first, last + 1)]


# --------------------------------------------------------------------------- what was extracted


def test_every_numbered_paragraph_of_each_document(text):
    counts = Counter(p.id.split(" §")[0] for p in text.paragraphs.values())
    assert counts == {"XG": 108, "XG App1": 16, "XG App2": 15, "WTD": 176, "WTD App1": 10, "WTD App2": 17,
                      "WTD App3": 58, "IDX": 77, "ISP": 40, "NEWS": 9}
    xg = (span(1, 1, 7) + ["2.1"] + span(3, 1, 8) + span(4, 1, 35) + span(5, 1, 6) + span(6, 1, 10) + span(7, 1, 2)
          + span(8, 1, 17) + span(9, 1, 6) + span(10, 1, 7) + span(11, 1, 5) + span(12, 1, 2) + ["13.1", "14.1"])
    assert ids_of(text, "XG") == [f"XG §{n}" for n in xg]
    assert ids_of(text, "XG App1") == [f"XG App1 §{n}" for n in ["1.1", "2.1", *span(3, 1, 10), *span(4, 1, 4)]]
    assert ids_of(text, "XG App2") == [f"XG App2 §{n}" for n in [*span(1, 1, 8), *span(2, 1, 7)]]
    idx = span(1, 1, 9) + span(2, 1, 35) + span(3, 1, 29) + span(4, 1, 2) + ["5.1", "6.1"]
    assert ids_of(text, "IDX") == [f"IDX §{n}" for n in idx]
    app3 = span(1, 1, 4) + ["2"] + span(3, 1, 21) + span(4, 1, 32)
    assert ids_of(text, "WTD App3") == [f"WTD App3 §{n}" for n in app3]
    sections = {pid.split("§")[1].split(".")[0] for pid in ids_of(text, "WTD")}
    assert sections == {str(n) for n in [*range(1, 71), *range(80, 85)]}   # the source has no §71–§79
    assert ids_of(text, "ISP")[-1] == "ISP §40" and ids_of(text, "NEWS")[-1] == "NEWS §9"


def test_known_paragraphs(text):
    p = text.paragraphs
    assert p["WTD App3 §4.22"].text.startswith("There will be some circumstances where you should not seek consent")
    assert p["WTD App3 §4.22"].text.endswith("lead to unjustified delay in making enquiries about allegations of significant harm.")
    assert p["WTD App3 §4.22"].heading == "When not to seek consent"
    assert p["WTD §11.5"].text.startswith("If you make your referral by telephone, confirm it in writing within 48 hours.")
    assert "within 3 working days" in p["WTD §11.5"].text          # joined back across the page break
    assert p["WTD §11.5"].heading == "If you have concerns about a child's welfare... — All practitioners should..."
    assert p["XG §4.17"].text.startswith("However, in general terms, where seeking consent is not possible")
    assert p["XG §4.17"].heading == "The duty of confidence"
    assert p["XG §4.1"].heading == "Awareness of the Law"
    assert p["XG §4.1"].text.startswith("To make informed judgements")
    assert p["IDX §2.15"].heading == "What information will be kept"
    assert p["IDX §2.15"].text.startswith("Databases would contain the following information:")
    assert p["WTD §13.1"].text.startswith("Where you become involved with a child")       # "- 13.1** Where …"
    assert p["WTD §4.2"].text.count("\n- ") == 8                                           # four kinds, four failures
    assert p["WTD App3 §4.1"].text.endswith("8. Have you properly recorded your decision?")
    assert p["WTD App3 §2"].heading == "Six key points on information sharing"
    assert p["WTD App3 §2"].text.count("- You ") == 6
    assert "*" not in "".join(x.text for x in p.values())                               # no Markdown left over
    assert all(x.source == x.id.split()[0] for x in p.values())


def test_every_paragraph_id_is_unique_in_the_files():
    ids = []
    for path in sorted((REAL_CONTENT / "guidance").glob("*.yaml")):
        ids += [entry["id"] for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["paragraphs"]]
    duplicates = [pid for pid, n in Counter(ids).items() if n > 1]
    assert not duplicates
    assert len(ids) > 500


# --------------------------------------------------------------------------- verbatim


def normalise(text: str) -> str:
    """Compare words, not layout: whitespace, curly quotes, dashes and Markdown stars are evened out."""
    text = text.replace("\uf0b7", "·").replace("*", "")
    text = text.translate(str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "}))
    return " ".join(text.split())


@pytest.fixture(scope="module")
def seeds():
    return {short: normalise((SEEDS / name).read_text(encoding="utf-8")) for short, name in SEED_FILES.items()}


@needs_seeds
def test_every_paragraph_is_verbatim(text, seeds):
    for paragraph in text.paragraphs.values():
        assert normalise(paragraph.text) in seeds[paragraph.source], paragraph.id
        for part in paragraph.heading.split(" — "):
            assert normalise(part) in seeds[paragraph.source], (paragraph.id, part)


@needs_seeds
def test_glossary_definitions_are_quotations(text, seeds):
    assert len(text.terms) >= 25
    for term in text.terms.values():
        sources = {ref.split()[0] for ref in find_references(term.cite, text)}
        assert sources, term.id
        assert any(normalise(term.definition) in seeds[source] for source in sources), term.id
        # and it is in the paragraph it cites (the WTD App3 glossary has no number of its own)
        if "glossary" not in term.cite:
            cited = " ".join(text.paragraphs[ref].text for ref in find_references(term.cite, text))
            assert normalise(term.definition) in normalise(cited), term.id


def test_glossary_terms_practitioners_ask_about(text):
    terms = text.terms
    for term_id in ("significant_harm", "consent", "implied_consent", "explicit_consent", "confidential_information",
                    "public_interest", "proportionality", "physical_abuse", "emotional_abuse", "sexual_abuse",
                    "neglect", "child_in_need", "personal_data", "sensitive_personal_data", "duty_of_confidence",
                    "indicator_of_concern", "lead_professional", "caldicott_guardian", "practitioner"):
        assert term_id in terms, term_id
    assert terms["significant_harm"].cite == "WTD §4.1"
    assert terms["significant_harm"].definition.startswith("Some children are in need because they are suffering")
    assert terms["implied_consent"].cite == "WTD App3 glossary (§4.32)"
    assert terms["implied_consent"].definition.startswith("Implied consent is where the person has been informed")
    assert terms["neglect"].definition.endswith("a child's basic emotional needs.")
    aliases = [alias for term in terms.values() for alias in term.aliases]
    assert len(aliases) == len(set(aliases))
    assert all(alias == alias.lower() for alias in aliases)


# --------------------------------------------------------------------------- finding references

REFERENCES = [
    ("§4.22", ["XG §4.22", "WTD App3 §4.22"]),
    ("4.22", ["XG §4.22", "WTD App3 §4.22"]),
    ("what does para 4.22 say?", ["XG §4.22", "WTD App3 §4.22"]),
    ("§2", ["WTD App3 §2", "WTD §2", "ISP §2", "NEWS §2"]),
    ("§3.7", ["XG §3.7", "WTD App3 §3.7", "IDX §3.7"]),
    ("XG 4.17", ["XG §4.17"]),
    ("xg §4.17", ["XG §4.17"]),
    ("XG§4.17", ["XG §4.17"]),
    ("xg4.17", ["XG §4.17"]),
    ("WTD 11.5", ["WTD §11.5"]),
    ("wtd para 11.5", ["WTD §11.5"]),
    ("WTD 4.1", ["WTD §4.1"]),                                   # the main text's, not App3's
    ("WTD 4.22", ["WTD App3 §4.22"]),                            # not in the main text: its Appendix 3
    ("wtd app3 4.22", ["WTD App3 §4.22"]),
    ("WTD App 3 §4.22", ["WTD App3 §4.22"]),
    ("WTD appendix 3, paragraph 4.22", ["WTD App3 §4.22"]),
    ("appendix 3 paragraph 4.22", ["WTD App3 §4.22"]),
    ("App3 §4.22", ["WTD App3 §4.22"]),
    ("paragraph 4.22 of XG", ["XG §4.22"]),
    ("para 4.22 of the WTD", ["WTD App3 §4.22"]),
    ("§3.2 of XG appendix 1", ["XG App1 §3.2"]),
    ("XG App1 §3.2", ["XG App1 §3.2"]),
    ("xg appendix 2 1.6", ["XG App2 §1.6"]),
    ("IDX 2.15", ["IDX §2.15"]),
    ("what does IDX §3.13 say about options?", ["IDX §3.13"]),
    ("ISP 9", ["ISP §9"]),
    ("news §3", ["NEWS §3"]),
    ("WTD App3 glossary (§4.32)", ["WTD App3 §4.32"]),
    ("WTD App3 §4.2–4.5", ["WTD App3 §4.2", "WTD App3 §4.3", "WTD App3 §4.4", "WTD App3 §4.5"]),
    ("wtd app3 4.28-30", ["WTD App3 §4.28", "WTD App3 §4.29", "WTD App3 §4.30"]),
    ("paragraphs 4.12 to 4.14 of WTD app3", ["WTD App3 §4.12", "WTD App3 §4.13", "WTD App3 §4.14"]),
    ("WTD §24–28", ["WTD §24", "WTD §25", "WTD §26", "WTD §27", "WTD §28.1", "WTD §28.2", "WTD §28.3", "WTD §28.4"]),
    ("XG §4.7–4.10, §4.14", ["XG §4.7", "XG §4.8", "XG §4.9", "XG §4.10", "XG §4.14"]),
    ("WTD App3 §3.12; XG §4.17; WTD §11.2", ["WTD App3 §3.12", "XG §4.17", "WTD §11.2"]),
    ("XG 4.17 and XG 4.17", ["XG §4.17"]),
    ("XG §99.1", []),
    ("WTD App3 §5.1", []),
    ("case example 7", []),
    ("a section 47 enquiry", []),
    ("confirm within 48 hours", []),
    ("referral on 15.11.2005", []),
    ("£1.5 million", []),
    ("what is significant harm?", []),
    ("", []),
]


@pytest.mark.parametrize("typed, expected", REFERENCES)
def test_find_references(text, typed, expected):
    assert find_references(typed, text) == expected


@pytest.mark.parametrize("typed, expected", [
    ("XG 4.17", "XG §4.17"),
    ("xg §4.17", "XG §4.17"),
    ("WTD 11.5", "WTD §11.5"),
    ("wtd app3 4.22", "WTD App3 §4.22"),
    ("appendix 3 paragraph 4.22", "WTD App3 §4.22"),
    ("paragraph 4.22 of XG", "XG §4.22"),
    ("IDX 2.15", "IDX §2.15"),
    ("§4.22", None),
    ("case example 7", None),
])
def test_normalise_reference(typed, expected):
    assert normalise_reference(typed) == expected


@pytest.mark.parametrize("question, expected", [
    ("what is significant harm?", ["significant_harm"]),
    ("What is implied consent?", ["implied_consent"]),
    ("what's the difference between explicit consent and implied consent", ["explicit_consent", "implied_consent"]),
    ("is this emotional abuse or neglect", ["emotional_abuse", "neglect"]),
    ("What is a Caldicott Guardian?", ["caldicott_guardian"]),
    ("what counts as sensitive personal data", ["sensitive_personal_data"]),
    ("when can I share without consent in the public interest?", ["consent", "public_interest"]),
    ("what is a flag of concern on the children’s index", ["indicator_of_concern", "information_sharing_index"]),
    ("case example 7", []),
])
def test_find_terms(text, question, expected):
    assert [term.id for term in find_terms(question, text)] == expected


def test_every_citation_in_content_names_paragraphs_that_exist(text):
    """Each part of each `cite:` in the flowcharts and case examples is a paragraph (or range) we hold."""
    missing = []
    for path in sorted(REAL_CONTENT.rglob("*.yaml")):
        if "guidance" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            cite = re.match(r"\s*(?:- )?cite: (.+)", line)
            if not cite:
                continue
            for part in re.split(r";", cite.group(1).strip("'\"")):
                if re.search(r"\b(XG|WTD|IDX|ISP|NEWS)\b", part) and not find_references(part, text):
                    missing.append(f"{path.relative_to(REAL_CONTENT)}:{number}: {part.strip()}")
    assert not missing, "\n".join(missing)


# --------------------------------------------------------------------------- malformed files

GUIDANCE = """\
source: XG
title: Cross-government guidance
paragraphs:
  - id: "XG §4.17"
    heading: The duty of confidence
    text: However, in general terms, where seeking consent is not possible ...
  - id: "XG App1 §3.2"
    text: If you are making a decision to disclose personal data ...
"""
GLOSSARY = """\
terms:
  - id: consent
    term: Consent
    aliases: [consent, agreement]
    definition: Consent is agreement freely given ...
    cite: XG §4.17
    see_also: [personal_data]
  - id: personal_data
    term: Personal data
    aliases: [personal data]
    definition: Personal data is information about any identified or identifiable living individual ...
    cite: XG App1 §3.2
"""


@pytest.fixture
def content_dir(tmp_path):
    (tmp_path / "guidance").mkdir()
    (tmp_path / "guidance" / "xg.yaml").write_text(GUIDANCE, encoding="utf-8")
    (tmp_path / "glossary.yaml").write_text(GLOSSARY, encoding="utf-8")
    return tmp_path


def edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


def problems(content_dir: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_guidance_text(content_dir)
    return [str(issue) for issue in caught.value.issues]


def test_the_small_content_loads(content_dir):
    text = load_guidance_text(content_dir)
    assert list(text.paragraphs) == ["XG §4.17", "XG App1 §3.2"]
    paragraph = text.paragraphs["XG §4.17"]
    assert (paragraph.source, paragraph.heading, paragraph.line) == ("XG", "The duty of confidence", 4)
    assert paragraph.file.endswith("xg.yaml")
    assert text.terms["consent"].see_also == ("personal_data",)
    assert text.terms["personal_data"].line == 8


@pytest.mark.parametrize("file, old, new, needle, message", [
    ("guidance/xg.yaml", '"XG §4.17"', '"XG 4.17"', "XG 4.17", "the id must be its citation"),
    ("guidance/xg.yaml", '"XG §4.17"', '"WTD §4.17"', "WTD §4.17", "this file's source is XG"),
    ("guidance/xg.yaml", '"XG App1 §3.2"', '"XG §4.17"', "  - id: \"XG §4.17\"\n    text", "duplicate paragraph id 'XG §4.17'"),
    ("guidance/xg.yaml", "    heading: The duty", "    headline: The duty", "headline", "unknown key 'headline'"),
    ("guidance/xg.yaml", "    text: If you are making", "    heading: If you are making", '"XG App1 §3.2"', "missing 'text'"),
    ("guidance/xg.yaml", "source: XG", "source: XQ", "source: XQ", "source 'XQ' is not one of"),
    ("guidance/xg.yaml", "title: Cross", "title: [Cross", "paragraphs:", "invalid YAML"),
    ("glossary.yaml", "aliases: [consent, agreement]", "aliases: [Consent, agreement]", "Consent,", "must be lower case"),
    ("glossary.yaml", "aliases: [personal data]", "aliases: [personal data, agreement]", "personal data, agreement",
     "alias 'agreement' is also an alias of 'consent'"),
    ("glossary.yaml", "see_also: [personal_data]", "see_also: [personal_info]", "see_also", "see_also 'personal_info' is not a term"),
    ("glossary.yaml", "cite: XG §4.17", "cite: the XG glossary", "the XG glossary", "does not name a source and paragraph"),
    ("glossary.yaml", "cite: XG §4.17", "cite: XG §9.9", "XG §9.9", "names no paragraph"),
    ("glossary.yaml", "  - id: personal_data", "  - id: consent", "  - id: consent\n    term: Personal", "duplicate term id 'consent'"),
    ("glossary.yaml", "  - id: personal_data", "  - id: Personal-Data", "Personal-Data", "not a valid id"),
    ("glossary.yaml", "    definition: Consent is", "    meaning: Consent is", "meaning", "unknown key 'meaning'"),
])
def test_malformed_content_names_file_and_line(content_dir, file, old, new, needle, message):
    path = edit(content_dir / file, old, new)
    if "\n" in needle:   # the second of two identical lines: find it by what follows
        first, after = needle.split("\n")
        lines = path.read_text(encoding="utf-8").splitlines()
        line = next(n for n in range(1, len(lines)) if first in lines[n - 1] and after in lines[n])
    else:
        line = line_of(path, needle)
    found = problems(content_dir)
    assert any(f"{path}:{line}: " in issue and message in issue for issue in found), found


def test_every_problem_is_reported_at_once(content_dir):
    edit(content_dir / "guidance" / "xg.yaml", '"XG §4.17"', '"XG 4.17"')
    edit(content_dir / "glossary.yaml", "see_also: [personal_data]", "see_also: [nothing]")
    edit(content_dir / "glossary.yaml", "aliases: [personal data]", "aliases: [Personal Data]")
    found = problems(content_dir)
    assert len(found) == 3
    assert any("xg.yaml:4:" in issue for issue in found)
    assert any("glossary.yaml:" in issue and "nothing" in issue for issue in found)


def test_missing_files_are_reported(tmp_path):
    assert any("guidance: folder not found" in issue for issue in problems(tmp_path))
    (tmp_path / "guidance").mkdir()
    assert any("glossary.yaml: file not found" in issue for issue in problems(tmp_path))
