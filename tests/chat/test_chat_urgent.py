"""A child in danger now: signals combined, negation and past time, the question when unsure."""

import shutil

import pytest

from guide.chat.content import load_signals
from guide.chat.urgent import assess
from guide.flows.yaml_lines import ContentError
from guide.guidance import Guidance

from tests.conftest import REAL_CONTENT


@pytest.fixture(scope="module")
def chat():
    return Guidance.load(REAL_CONTENT).chat


def level(chat, text):
    return assess(text, chat).level


@pytest.mark.parametrize("story", [
    "Her ex has just turned up and is outside the house right now, he has threatened to kill her",  # imminence + threat
    "The baby is 3 months old and mum is drunk and on her own with him",                          # intoxication, very young
    "A toddler has been left alone in the flat since yesterday morning and nobody is answering",  # very young, no care
    "He told me he is going to take his own life, he has it planned",                             # suicide intent
    "Mum has stopped her meds and says the voices tell her to hurt the baby",                     # acute mental illness
    "She says she is meeting a 30 year old man at a party at a flat after school today",          # exploitation, today
    "She begged me not to send her home because he will do it again",                             # repeat abuse expected
])
def test_danger_told_in_any_words_brings_the_urgent_prompt(chat, story):
    assert level(chat, story) == "urgent"


def test_a_single_word_of_harm_with_no_time_is_not_an_alarm(chat):
    assert level(chat, "The 9 year old had a bruise on his arm, mum says he fell off his bike") is None


def test_harm_long_past_is_not_an_alarm(chat):
    assert level(chat, "She was beaten by her father years ago; she has lived with her aunt since") is None


def test_harm_denied_is_not_an_alarm(chat):
    assert level(chat, "Saw the toddler today, no bruises, not left alone, mum was not drunk") is None


def test_a_joke_or_a_rehearsal_is_not_an_alarm(chat):
    assert level(chat, "lol he said his mum would kill him for losing his coat, he was joking") is None


def test_weaker_signals_together_ask_whether_a_child_is_in_danger_now(chat):
    assessment = assess("Dad is often drunk and there is domestic violence at home", chat)
    assert assessment.level == "ask"
    assert {"intoxication", "domestic_abuse"} <= set(assessment.signals)


def test_reassurance_with_a_time_asks_rather_than_alarms(chat):
    assert level(chat, "He threatened to hurt her tonight but he was joking, lol") == "ask"


def test_the_urgent_prompt_names_the_paragraphs_its_signals_rest_on(chat):
    assessment = assess("Baby 6 weeks with a fractured arm, parents taking her home now", chat)
    assert assessment.level == "urgent"
    assert any("WTD §22" in cite for cite in assessment.cites)


def test_every_signal_cites_wtd_22_23_or_the_glossary(chat):
    for signal in chat.signals.signals:
        assert "WTD §22" in signal.cite or "WTD §23" in signal.cite or "glossary" in signal.cite, signal.id


def test_a_signal_without_a_cite_is_refused_with_file_and_line(tmp_path):
    shutil.copy(REAL_CONTENT / "chat_urgent.yaml", tmp_path / "chat_urgent.yaml")
    text = (tmp_path / "chat_urgent.yaml").read_text(encoding="utf-8")
    text = text.replace("    cite: WTD §22\n    phrases: [kill myself", "    cite: my own view\n    phrases: [kill myself", 1)
    (tmp_path / "chat_urgent.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ContentError) as refused:
        load_signals(tmp_path)
    assert "chat_urgent.yaml" in str(refused.value) and "does not name a source" in str(refused.value)


def test_an_unknown_strength_is_refused(tmp_path):
    text = (REAL_CONTENT / "chat_urgent.yaml").read_text(encoding="utf-8").replace("strength: weak", "strength: mild", 1)
    (tmp_path / "chat_urgent.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ContentError, match="strength must be one of"):
        load_signals(tmp_path)


def test_an_injury_to_a_baby_is_urgent_without_a_time(chat):
    assert level(chat, "8 week old baby with bruises on both arms, parents can't explain them") == "urgent"


def test_an_injury_with_an_explanation_that_fits_does_not_alarm(chat):
    assert level(chat, "the 2 year old has a small bruise on his forehead, mum says he bumped it on the table") is None


def test_a_harm_told_today_but_long_past_does_not_alarm(chat):
    assert level(chat, "A pupil told me today that her dad hit her mum last year, they're separated now") is None


def test_a_grave_signal_is_questioned_not_silenced_by_reassurance(chat):
    assert level(chat, "baby 6 weeks old with a skull fracture, mum says it was an accident") == "ask"


def test_someone_arriving_now_makes_harm_urgent(chat):
    assert level(chat, "the 4 year old has burns on his hands and his dad has turned up at the house") == "urgent"
