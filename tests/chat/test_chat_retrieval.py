"""Retrieval quality: a practitioner's own description of a worry finds the right case example.

Each of the 21 case examples gets one paraphrase written the way a practitioner would type it
into the chat: first person, everyday words, no lifting of phrases from the guidance. The
paraphrases were written from the scenario files alone, without looking at how the search
works, so this is an honest check rather than one tuned to the index.

The chat search must rank the matching case example in its top 3 for every paraphrase.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from guide import create_app

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "content" / "scenarios"

PARAPHRASES: dict[str, str] = {
    "ce01_health_visitor": (
        "I'm a health visitor. New mum with a 3-month-old, just moved here after being rehoused. "
        "She's quite rough with him and lets him scream until feed time. Twice now she wasn't home "
        "when I turned up as arranged."
    ),
    "ce02_gp": (
        "GP here. I'm seeing a little boy of six who keeps wetting the bed. His mum is always in "
        "asking for sleeping pills and says she's low; I think the marriage is rocky and it's "
        "affecting him, but she won't see anyone."
    ),
    "ce03_midwife": (
        "Midwife. Young woman turned up at clinic 37 weeks pregnant with no antenatal care at all, "
        "hasn't signed up with any GP. Says she took drugs early on but is clean now. "
        "Comes across really well, so how worried should I be?"
    ),
    "ce04_accident_and_emergency": (
        "A&E nurse. Family with loads of kids in tonight, the 8 year old girl has a hurt wrist and "
        "arm and can't say how she did it, even alone with me. Her older sisters had suspicious "
        "injuries before."
    ),
    "ce05_ward_multidisciplinary_meeting": (
        "Nurse on the children's ward. We've got a little girl with cerebral palsy in for leg "
        "surgery and spotted bruises on her inner thighs. Mum says every time she returns from "
        "respite she's in a bad way. It's going to our MDT."
    ),
    "ce06_camhs": (
        "CAMHS therapist. Teenage lad gets panicky in lessons and walks out, and school keep "
        "punishing him. He won't let me speak to school, thinks they'll say he's crazy. "
        "No contact with parents, and his new social worker is an unknown to me."
    ),
    "ce07_adult_mental_health": (
        "health visitor - i told the GP a mum with 4 year old twins and a newborn seemed postnatally "
        "depressed, she's just stuck waiting for mental health. now one twin's been scalded by a "
        "kettle making mum a cuppa"
    ),
    "ce08_police_nigel": (
        "Police officer. We found a lad of eight out at half eleven at night with older kids "
        "smashing up a bus stop, took him home and his parents had a go at us. A week later "
        "he's caught skipping school and nicking sweets."
    ),
    "ce09_domestic_abuse": (
        "I'm a PC. Neighbour rang about screaming from the woman next door, kids crying too, not the "
        "first time. She had cuts on her face but wouldn't talk or press charges. Kids clean and fed but "
        "really upset."
    ),
    "ce10_youth_offending_team": (
        "I work in the YOT. Got a 16 year old lad charged with a few offences who's sofa surfing at "
        "mates' places since his mum's boyfriend kicked him out after a punch-up. Not at school, "
        "no money, and he's adamant I don't contact his family."
    ),
    "ce11_young_people_in_custody": (
        "psychologist at a young offenders institution. 17yo lad sent to us for his behaviour, ADHD "
        "diagnosis from who knows where, cuts himself a lot, several suicide attempts, beaten as a "
        "kid and saw lots of violence at home."
    ),
    "ce12_mappa": (
        "Probation officer. One of my sex offenders, just out of prison, has given me his new "
        "address and it's the home of a bloke long suspected of messing with kids, right by a play "
        "park used by a toddler group and youth club."
    ),
    "ce13_playgroup": (
        "Preschool leader. Little boy, 3, brought in by the au pair, doesn't play or talk to anyone. "
        "Wrote to the parents, no reply, au pair just shrugs. They use private doctors, no NHS GP."
    ),
    "ce14_school_year_head": (
        "Head of year at a secondary. One of my Year 9 girls is rude and swearing in class, flirts "
        "with the boys, storms out if told off. Whispers she's up to no good outside school. "
        "Smoking loads, gone really thin. Parents ignore our letters."
    ),
    "ce15_education_welfare": (
        "Education welfare here. Head of year flagged a boy nearly 16 who's hardly ever in, hanging "
        "round with a crowd into crime, police stopped him twice in a nicked car. Parents just "
        "split, dad maybe abroad."
    ),
    "ce16_voluntary_drop_in": (
        "Volunteer at a young people's drop in. Girl says she's pregnant and wants a termination, "
        "gives only a mobile, staying at a cousin's, then rushes off after a call. Old notes say "
        "she dances at a club. No idea how old she is."
    ),
    "ce17_interpreters": (
        "Teacher at a primary. We needed to tell a mum with no English the kids were late and "
        "scruffy and smelly, so we grabbed a teaching assistant who speaks her language to "
        "translate. Mum got really distressed, took the kids away and never came back."
    ),
    "ce18_asylum_private_fostering": (
        "At our school, two kids seeking asylum were enrolled by a man saying he's their uncle. "
        "They're late or missing days, hungry, not dressed for the cold. Now a woman says he's gone "
        "and she's their aunt. Who's looking after them?"
    ),
    "ce19_multi_agency_panels": (
        "Joint funding panel for kids with complex needs: health, education and social care. Key "
        "workers send regular reports and every child is talked about by everyone round the table, "
        "even agencies not involved. Do parents have to agree?"
    ),
    "ce20_housing": (
        "Housing officer on an estate. A neighbour's told me one of my tenants leaves her kids, all "
        "little, on their own at home. Word is dad drinks and they row loudly. Place is in a state "
        "and they owe rent."
    ),
    "ce21_leisure_centre": (
        "receptionist at the leisure centre. two girls say they're quitting swimming as a lifeguard "
        "lurks round the changing rooms watching them undress, keeps brushing against them in the "
        "water and offers them hot chocolate. they feel creeped out"
    ),
}


def _words(text: str) -> list[str]:
    """Lower-case words with punctuation stripped (apostrophes dropped, other marks split words)."""
    text = text.lower().replace("\u2019", "").replace("\u2018", "").replace("'", "")
    return re.sub(r"[^a-z0-9]+", " ", text).split()


def _ngrams(words: list[str], n: int = 4) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def _load_scenarios() -> dict[str, dict]:
    scenarios = {}
    for path in sorted(SCENARIOS.glob("ce*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        scenarios[data["id"]] = data
    return scenarios


SCENARIO_DATA = _load_scenarios()
CASE_IDS = sorted(PARAPHRASES)


@pytest.fixture(scope="module")
def chat_search(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("chat_retrieval")
    app = create_app({
        "DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}",
        "SECRET_KEY": "x",
        "CONTENT_DIR": ROOT / "content",
        "TESTING": True,
    })
    index = app.extensions["chat_index"]
    chat = app.extensions["chat_content"]

    def search(text: str) -> list[str]:
        matches = index.search(text, chat.synonyms, kinds=("case",), limit=3)
        return [m.ref for m in matches]

    return search


# --- the paraphrases themselves are honest ---------------------------------------------------

def test_one_paraphrase_per_case_example():
    assert len(SCENARIO_DATA) == 21
    assert set(PARAPHRASES) == set(SCENARIO_DATA)


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_paraphrase_is_short_and_in_own_words(case_id):
    text = PARAPHRASES[case_id]
    assert 15 <= len(text.split()) <= 45, f"{case_id}: {len(text.split())} words"
    words = _words(text)

    scenario = SCENARIO_DATA[case_id]
    source = [scenario["title"]] + [fact["quote"] for fact in scenario["facts"]]
    source_grams: set[tuple[str, ...]] = set()
    for passage in source:
        source_grams |= _ngrams(_words(passage))
    copied = _ngrams(words) & source_grams
    assert not copied, f"{case_id} copies from the guidance: {sorted(' '.join(g) for g in copied)}"


# --- the search finds them ------------------------------------------------------------------

@pytest.mark.parametrize("case_id", CASE_IDS)
def test_paraphrase_finds_its_case_example_in_top_3(chat_search, case_id):
    refs = chat_search(PARAPHRASES[case_id])
    assert case_id in refs, f"{case_id} not in top 3: {refs}"


def test_retrieval_rates(chat_search):
    top1 = top3 = 0
    misses = []
    for case_id in CASE_IDS:
        refs = chat_search(PARAPHRASES[case_id])
        if refs[:1] == [case_id]:
            top1 += 1
        if case_id in refs[:3]:
            top3 += 1
        else:
            misses.append((case_id, refs))
    print(f"retrieval: top-1 {top1}/21, top-3 {top3}/21")
    for case_id, refs in misses:
        print(f"  missed {case_id}: got {refs}")
    assert top3 == 21, misses
