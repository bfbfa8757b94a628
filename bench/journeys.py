"""How much a practitioner reads and does on the common journeys: pages, clicks, fields, words.

    .venv/bin/python bench/journeys.py

A scripted user drives the real app (real content, a fresh SQLite database in a temporary
folder) through Flask's test client, as a person would: it follows the links and presses the
buttons it can see on each page, and fills the forms it meets. Nothing is posted that the
pages do not offer. For each journey it prints:

- **pages**: pages seen from the home page (or the trainer's sessions page) to the end;
- **clicks**: links followed and buttons pressed (choosing a radio answer is not counted);
- **fields**: what the user had to fill or choose on the record pages (a radio group, a text
  box, a date is one field each; anything already filled in for them is not counted), and
  **boxes**: checkboxes ticked;
- **words above answers**: on each question page, the visible words in the page's main part
  before the first answer (closed "details" count only their summary), mean and most.

Journeys: consent given; share without consent on significant harm; "not sure" → seek advice;
a case example (self-study); a trainer's round of one case (open, vote closed, reveal, finish).
The answers are chosen by question id, so a shorter or longer flowchart is walked as it is.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

from werkzeug.datastructures import MultiDict

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

EMAIL, TRAINER, PASSWORD = "bench@example.org", "bench-trainer@example.org", "journey-timing-passphrase-2026"

# --------------------------------------------------------------------------- a small DOM

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict, parent: Node | None):
        self.tag, self.attrs, self.parent, self.children = tag, attrs, parent, []

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def find_all(self, tag: str, **attrs) -> list[Node]:
        return [n for n in self.iter() if n.tag == tag and all(n.attrs.get(k) == v for k, v in attrs.items())]

    def text(self) -> str:
        return " ".join(c if isinstance(c, str) else c.text() for c in self.children)

    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def ancestor(self, tag: str) -> Node | None:
        node = self.parent
        while node is not None and node.tag != tag:
            node = node.parent
        return node


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v if v is not None else "") for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, {k: (v or "") for k, v in attrs}, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    return builder.root


def words_before_answers(main: Node) -> int:
    """Visible words in <main> before its first radio button (hidden text and closed details skipped)."""
    count = 0

    def visit(node) -> bool:  # True once the first answer is reached
        nonlocal count
        if isinstance(node, str):
            count += len(re.findall(r"\w[\w'’-]*", node))
            return False
        if node.tag == "input" and node.attrs.get("type") == "radio":
            return True
        if node.tag in ("script", "style", "template", "noscript") or "govuk-visually-hidden" in node.classes():
            return False
        if node.tag == "details" and "open" not in node.attrs:
            summaries = [c for c in node.children if isinstance(c, Node) and c.tag == "summary"]
            return any(visit(s) for s in summaries)
        return any(visit(child) for child in node.children)

    visit(main)
    return count


# --------------------------------------------------------------------------- the scripted user

class User:
    def __init__(self, client, name: str):
        self.client, self.name = client, name
        self.pages = self.clicks = self.fields = self.boxes = 0
        self.words: list[int] = []
        self.url = ""
        self.doc: Node | None = None

    # what the user sees
    def _seen(self, response) -> None:
        assert response.status_code in (200, 400), f"{self.name}: {response.request.path} → {response.status_code}"
        self.pages += 1
        self.url = response.request.path
        self.doc = parse(response.get_data(as_text=True))

    @property
    def main(self) -> Node:
        return self.doc.find_all("main")[0]

    def open(self, url: str) -> None:
        self._seen(self.client.get(url, follow_redirects=True))

    def follow(self, text: str) -> None:
        """Follow the first link whose words include `text` (the menu included)."""
        for link in self.doc.find_all("a"):
            if text.lower() in " ".join(link.text().split()).lower() and link.attrs.get("href"):
                self.clicks += 1
                return self.open(link.attrs["href"])
        raise AssertionError(f"{self.name}: no link '{text}' on {self.url}")

    def press(self, text: str, choose: dict | None = None, fill: bool = False) -> None:
        """Press the button whose words include `text`, with the radios in `choose` selected;
        `fill`: also fill what the form still asks for (a record page)."""
        for button in self.main.find_all("button") + [i for i in self.main.find_all("input") if i.attrs.get("type") == "submit"]:
            label = " ".join((button.text() or button.attrs.get("value", "")).split())
            if text.lower() in label.lower():
                form = button.ancestor("form")
                data = self._form_data(form, choose or {}, fill)
                if button.attrs.get("name"):
                    data.append((button.attrs["name"], button.attrs.get("value", "")))
                self.clicks += 1
                action = form.attrs.get("action") or self.url
                return self._seen(self.client.post(action, data=MultiDict(data), follow_redirects=True))
        raise AssertionError(f"{self.name}: no button '{text}' on {self.url}")

    def _form_data(self, form: Node, choose: dict, fill: bool) -> list:
        data, radios, chosen_ids = [], {}, set()
        for field in form.find_all("input"):
            kind, name = field.attrs.get("type", "text"), field.attrs.get("name")
            if not name:
                continue
            if kind == "radio":
                radios.setdefault(name, []).append(field)
            elif kind == "checkbox":
                if "checked" in field.attrs:
                    data.append((name, field.attrs.get("value", "on")))
                elif fill:
                    self.boxes += 1
                    data.append((name, field.attrs.get("value", "on")))
        for name, options in radios.items():
            checked = [o for o in options if "checked" in o.attrs]
            wanted = choose.get(name)
            pick = next((o for o in options if o.attrs.get("value") == wanted), None) if wanted else None
            if pick is None and checked:
                pick = checked[0]
            elif pick is None and fill:
                pick = options[0]
            if pick is None:
                continue
            if fill and not checked:
                self.fields += 1
            data.append((name, pick.attrs.get("value", "")))
            chosen_ids.add(pick.attrs.get("id"))
        today, dates_counted = date.today(), set()
        for field in form.find_all("input") + form.find_all("textarea") + form.find_all("select"):
            kind, name = field.attrs.get("type", "text"), field.attrs.get("name")
            if not name or kind in ("radio", "checkbox", "submit"):
                continue
            value = field.attrs.get("value", "") if field.tag == "input" else field.text().strip()
            if field.tag == "select":
                options = field.find_all("option")
                selected = [o for o in options if "selected" in o.attrs] or options[:1]
                value = selected[0].attrs.get("value", "") if selected else ""
            if fill and not value and field.tag != "select" and kind != "hidden" and self._needed(form, field, chosen_ids):
                part = re.search(r"-(day|month|year)$", name)
                if part:
                    value = str({"day": today.day, "month": today.month, "year": today.year}[part.group(1)])
                    if name.rsplit("-", 1)[0] not in dates_counted:
                        dates_counted.add(name.rsplit("-", 1)[0])
                        self.fields += 1
                else:
                    value = "Bench text"
                    self.fields += 1
            data.append((name, value))
        return data

    def _needed(self, form: Node, field: Node, chosen_ids: set) -> bool:
        """Not optional, and not inside a follow-up of a radio the user did not choose."""
        label = next((lab for lab in form.find_all("label") if lab.attrs.get("for") == field.attrs.get("id")), None)
        if label is not None and "optional" in label.text().lower():
            return False
        node = field.parent
        while node is not None and node is not form:
            if "govuk-radios__conditional" in node.classes():
                return node.attrs.get("id", "").removeprefix("conditional-") in chosen_ids
            if "govuk-checkboxes__conditional" in node.classes():
                return False
            node = node.parent
        return True

    def answer_questions(self, answers: dict, default: str = "yes") -> None:
        """Answer each question page until there is none: by question id, else `default`, else the first answer."""
        while re.search(r"^/walks/[0-9a-f]+/(?!(?:check|outcome|record|diagram)$)\w+$", self.url):
            question = self.url.rsplit("/", 1)[1]
            self.words.append(words_before_answers(self.main))
            values = [i.attrs.get("value") for i in self.main.find_all("input") if i.attrs.get("type") == "radio"]
            wanted = answers.get(question, default)
            value = wanted if wanted in values else values[0]
            self.press("Continue", choose={"answer": value})

    def record(self, choose: dict) -> None:
        """Fill the record pages until the record is saved (each page's main button)."""
        for _ in range(12):
            if re.search(r"^/records/[0-9a-f]+/saved$", self.url):
                return
            buttons = [" ".join(b.text().split()) for b in self.main.find_all("button")]
            main_button = next((b for b in buttons if "save decision record" in b.lower()), None) or next(
                b for b in buttons if b and "look up" not in b.lower())
            self.press(main_button, choose=choose, fill=True)
        raise AssertionError(f"{self.name}: the record was not saved ({self.url})")

    def row(self) -> dict:
        words = self.words or [0]
        return {"journey": self.name, "pages": self.pages, "clicks": self.clicks, "fields": self.fields,
                "boxes": self.boxes, "questions": len(self.words), "words_mean": sum(words) / len(words),
                "words_max": max(words)}


# --------------------------------------------------------------------------- the journeys

SHARE_WITHOUT_CONSENT = {"consent": "refused", "statutory": "no", "harm_threshold": "yes", "public_interest": "yes",
                         "dpa_fair": "yes_exempt", "dpa_sensitive": "no", "dpa_compatible": "yes_compatible"}
CONSENT_GIVEN = {"consent": "yes_explicit", "dpa_fair": "yes_told", "dpa_sensitive": "no",
                 "dpa_compatible": "yes_compatible"}
RECORD_CHOICES = {"advice_sought": "no", "share_method": "secure_email", "person_told": "yes",
                  "basis": "public_interest"}


def start_from_home(user: User, flowchart: str = "confidentiality") -> None:
    """From the home page: choose the decision (a radio) and press Start now; older pages had a link
    to the flowchart's own start page and a Start button there, which this follows when it meets them."""
    user.open("/")
    if any(i.attrs.get("name") == "flowchart" for i in user.main.find_all("input")):
        user.press("Start", choose={"flowchart": flowchart})
    else:
        user.follow("Should I share")
    if "/walks/" not in user.url:
        user.press("Start")


def to_the_record(user: User) -> None:
    """After the last question: the record form, wherever it is (on the outcome page, or one link away)."""
    if user.url.endswith("/check"):
        user.follow("Continue")
    if not any("save decision record" in " ".join(b.text().split()).lower() for b in user.main.find_all("button")):
        user.follow("Record your decision")


def should_i_share(user: User, answers: dict, choices: dict, record: bool = True) -> None:
    start_from_home(user)
    user.answer_questions(answers)
    if record:
        to_the_record(user)
        user.record(choices)


def seek_advice(user: User) -> None:
    start_from_home(user)
    user.answer_questions({}, default="not_sure")
    to_the_record(user)
    user.record({"advice_sought": "yes"})


def case_example(user: User, guidance) -> None:
    case = next(iter(guidance.scenarios.values()))
    user.open("/")
    user.follow("Case examples")
    user.follow(case.title)
    user.press("Start this case")
    user.answer_questions({point.id: point.guidance for point in case.decision_points})
    user.press("Keep this as a training record")


def trainer_round(user: User, guidance) -> None:
    case = next(iter(guidance.scenarios.values()))
    user.open("/training")
    form_cases = [("cases", case.id)]
    user.clicks += 1  # ticking the case is a click; opening the session another below
    user.boxes += 1
    token = next(i.attrs["value"] for i in user.main.find_all("input") if i.attrs.get("name") == "csrf_token")
    user.clicks += 1
    user._seen(user.client.post("/training", data=MultiDict([("csrf_token", token), *form_cases]), follow_redirects=True))
    user.press("Start the first decision point")
    for _ in case.decision_points:
        user.press("Close voting")
        user.press("Finish the session" if _ is case.decision_points[-1] else "Next decision point")
        if "Are you sure" in user.main.text() or "confirm" in user.url:
            user.press("Finish")


# --------------------------------------------------------------------------- running

def make_app(folder: Path):
    from guide import create_app
    from guide.accounts.users import create_user
    from guide.db import migrate

    url = f"sqlite:///{folder / 'journeys.sqlite3'}"
    migrate(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret", "CONTENT_DIR": str(REPO / "content")})
    with app.app_context():
        session = app.extensions["db_sessions"]()
        create_user(session, email=EMAIL, name="Bench Practitioner", role="practitioner", agency="Northshire Health",
                    team="Health visiting", job_title="Health visitor", password=PASSWORD)
        create_user(session, email=TRAINER, name="Bench Trainer", role="trainer", agency="Northshire Partnership",
                    team="Training", job_title="Trainer", password=PASSWORD)
        session.commit()
        session.close()
    return app


def signed_in(app, email: str, name: str) -> User:
    user = User(app.test_client(), name)
    user.open("/sign-in")
    token = next(i.attrs["value"] for i in user.main.find_all("input") if i.attrs.get("name") == "csrf_token")
    response = user.client.post("/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.status_code
    user.pages = user.clicks = 0
    return user


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    import os
    os.environ.setdefault("GUIDE_CHEAP_PASSWORD_HASHING", "1")
    folder = Path(tempfile.mkdtemp(prefix="guide-journeys-"))
    try:
        app = make_app(folder)
        guidance = app.extensions["guidance"]
        rows = []
        for name, run, who in (
            ("consent given", lambda u: should_i_share(u, CONSENT_GIVEN, RECORD_CHOICES), EMAIL),
            ("share without consent (significant harm)", lambda u: should_i_share(u, SHARE_WITHOUT_CONSENT, RECORD_CHOICES), EMAIL),
            ("not sure → seek advice", seek_advice, EMAIL),
            ("a case example", lambda u: case_example(u, guidance), EMAIL),
            ("a trainer round (one case)", lambda u: trainer_round(u, guidance), TRAINER),
        ):
            user = signed_in(app, who, name)
            run(user)
            rows.append(user.row())
        print(f"{'journey':44} {'pages':>5} {'clicks':>6} {'fields':>6} {'boxes':>5} {'questions':>9} "
              f"{'words above answers (mean / most)':>34}")
        for r in rows:
            words = f"{r['words_mean']:.0f} / {r['words_max']}" if r["questions"] else "-"
            print(f"{r['journey']:44} {r['pages']:>5} {r['clicks']:>6} {r['fields']:>6} {r['boxes']:>5} "
                  f"{r['questions']:>9} {words:>34}")
        print("\nGoals: a 'share without consent' record in at most 12 pages from home, 'consent given' in at most 9.")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
