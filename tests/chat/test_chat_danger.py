"""Over HTTP: the 999 line, the question "Is a child in danger right now?", focus on the newest reply."""

import re

from guide.models import ChatMessage, Walk

from tests.chat.test_chat import open_chat, person, say, text, transcript  # noqa: F401  (fixture)

WEAK_SIGNALS = "Dad is often drunk and there is domestic violence at home"


def test_every_chat_page_says_call_999_if_a_child_is_in_danger_now(person):  # noqa: F811
    assert "If a child is in danger now, call 999." in text(person.get("/chat"))
    chat = open_chat(person, "A parent asked me what the school keeps about her son")
    assert "If a child is in danger now, call 999." in text(person.get(chat))


def test_weaker_signals_ask_whether_a_child_is_in_danger_with_yes_and_no(person):  # noqa: F811
    chat = open_chat(person, WEAK_SIGNALS)
    page = text(person.get(chat))
    said = transcript(person, chat)
    assert "Is a child in danger right now?" in said and "act now" not in said
    assert re.search(r'action="[^"]*/danger".*?value="yes".*?value="no"', page, re.S)
    assert "closest to what you describe" in said or "could not find a case example" in said  # the story still searched


def test_yes_brings_the_urgent_prompt(person):  # noqa: F811
    chat = open_chat(person, WEAK_SIGNALS)
    response = person.post(f"{chat}/danger", {"answer": "yes"})
    assert response.status_code == 303
    said = transcript(person, chat)
    assert said.index("Is a child in danger right now?") < said.index("act now")
    assert "contact the police (999)" in said and "You answered: Yes" in said


def test_no_is_noted_and_the_question_is_not_asked_twice(person, real_app):  # noqa: F811
    chat = open_chat(person, WEAK_SIGNALS)
    assert person.post(f"{chat}/danger", {"answer": "no"}).status_code == 303
    said = transcript(person, chat)
    assert "If that changes, call 999" in said and "act now" not in said
    session = real_app.extensions["db_sessions"]()
    before = session.query(ChatMessage).count()
    session.close()
    again = person.post(f"{chat}/danger", {"answer": "yes"})
    assert again.status_code == 400 and "no question about danger" in text(again)
    session = real_app.extensions["db_sessions"]()
    assert session.query(ChatMessage).count() == before  # refused, nothing stored
    session.close()


def test_the_danger_question_can_be_answered_in_words(person):  # noqa: F811
    chat = open_chat(person, WEAK_SIGNALS)
    said = say(person, chat, "yes")
    assert "act now" in said


def test_an_answer_that_is_neither_yes_nor_no_is_refused(person):  # noqa: F811
    chat = open_chat(person, WEAK_SIGNALS)
    response = person.post(f"{chat}/danger", {"answer": "maybe"})
    assert response.status_code == 400 and "Choose Yes or No" in text(response)


def test_danger_told_during_a_walk_brings_the_prompt_and_keeps_the_question_open(person, real_app):  # noqa: F811
    chat = open_chat(person, "A parent asked me what the school keeps about her son")
    person.get(chat)
    person.post(f"{chat}/start", {"flowchart": "confidentiality"})
    said = say(person, chat, "he has just told me his stepdad will batter him tonight when he gets home")
    assert "act now" in said
    assert said.rstrip().endswith("I'm not sure")  # the purpose question asked again, with its options
    session = real_app.extensions["db_sessions"]()
    assert session.query(Walk).one().answers == {}
    session.close()


def test_after_a_reply_focus_and_the_address_go_to_the_guides_first_answer_to_it(person):  # noqa: F811
    chat = open_chat(person, "A parent asked me what the school keeps about her son")
    person.get(chat)
    response = person.post(f"{chat}/messages", {"message": "what is significant harm?"})
    anchor = re.search(r"#m(\d+)$", response.location).group(1)
    page = text(person.get(chat))
    focused = re.findall(r'id="m(\d+)"\s*tabindex="-1" autofocus', page)
    assert focused == [anchor]
    mine = [int(m) for m in re.findall(r'app-chat__message--you" id="m(\d+)"', page)]
    assert int(anchor) == mine[-1] + 1  # the first of the guide's replies to the latest message


def test_a_reply_asked_again_says_why_and_on_which_paragraph(person):  # noqa: F811
    chat = open_chat(person, "A parent asked me what the school keeps about her son")
    person.get(chat)
    person.post(f"{chat}/start", {"flowchart": "confidentiality"})
    for reply in ["yes", "yes", "yes"]:
        say(person, chat, reply)
    said = say(person, chat, "mum says yes but dad says no")
    assert "whose consent" in said.split("mum says yes but dad says no")[-1]
    assert "WTD App3 §4.16–4.21" in said and said.rstrip().endswith("I'm not sure")


def test_no_idea_is_not_read_as_no_to_the_danger_question(person):  # noqa: F811
    chat = open_chat(person, WEAK_SIGNALS)
    said = say(person, chat, "no idea")
    assert "If that changes, call 999" not in said
    page = text(person.get(chat))
    assert re.search(r'action="[^"]*/danger"', page)  # still waiting for Yes or No
