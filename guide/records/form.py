"""The decision record's form: its fields, their labels and the checks on what is entered (web form and API alike).

What a record holds follows XG §2, §4.33, §5.5 and WTD App3 §4.29–4.30.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..guidance import Guidance

SHORT = 200
LONG = 5000

CONSENT_POSITIONS = {
    "explicit": "Explicit consent given",
    "implied": "Implied consent",
    "refused": "Consent refused",
    "not_sought": "Consent not sought",
}
SHARE_METHODS = {
    "secure_email": "Secure email",
    "secure_system": "Secure case management system",
    "phone": "Telephone",
    "in_person": "In person",
    "secure_post": "Secure post",
    "other": "Another way",
}
BASES = {
    "public_interest": "Public interest (risk of significant harm to a child, serious harm to an adult, or serious crime)",
    "statutory_duty": "A statutory duty to share",
    "court_order": "A court order",
}
YES_NO = {"yes": "Yes", "no": "No"}


# The fields in the order the form asks for them, so the error summary lists problems in page order.
FIELD_ORDER = ("correction_reason", "subject_ref", "consent_position", "consent_note", "information_shared",
               "recipient_name", "recipient_job_title", "recipient_organisation", "recipient_contact", "share_method",
               "method_detail", "shared_on", "person_told", "not_told_reason", "basis", "basis_detail",
               "advice_sought", "advice_from", "checklist", "other_practitioners", "notes")

# The fields answered by choosing (radios, checkboxes), not by typing: see fragments.TypedValues.
CHOICE_FIELDS = ("consent_position", "share_method", "person_told", "basis", "advice_sought", "checklist")

# What the walk's key answers already say (their ids and values are kept stable: content/flowcharts.yaml).
CONSENT_FROM_WALK = {"yes_explicit": "explicit", "yes_implied": "implied", "refused": "refused",
                     "not_asked": "not_sought"}


def known_from_walk(answers: dict, today: date | None = None) -> dict:
    """The record's fields the walk has answered already, to fill in for the practitioner (who can change them)."""
    known = {}
    if answers.get("consent") in CONSENT_FROM_WALK:
        known["consent_position"] = CONSENT_FROM_WALK[answers["consent"]]
    if answers.get("consent") == "yes_explicit":
        # Whoever gave explicit consent knows it is being shared: filled in, and the practitioner can change it.
        known["person_told"] = "yes"
    if answers.get("public_interest") == "yes":
        known["basis"] = "public_interest"
    today = today or date.today()
    known.update({"shared_on-day": str(today.day), "shared_on-month": str(today.month), "shared_on-year": str(today.year)})
    return known


class RecordInvalid(Exception):
    """The details fail the checks; `errors` maps each field to a message for the error summary, in page order."""

    def __init__(self, errors: dict[str, str]):
        rank = {name: index for index, name in enumerate(FIELD_ORDER)}
        errors = dict(sorted(errors.items(), key=lambda item: rank.get(item[0], len(rank))))
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class FieldReader:
    raw: dict
    errors: dict

    def text(self, name: str, required: str | None = None, limit: int = SHORT) -> str:
        value = self.raw.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.errors[name] = "Enter text"
            return ""
        value = value.strip()
        if required and not value:
            self.errors[name] = required
        elif len(value) > limit:
            self.errors[name] = f"Must be {limit} characters or fewer"
        return value

    def choice(self, name: str, options: dict, required: str) -> str:
        value = self.raw.get(name) or ""
        if value not in options:
            self.errors[name] = required
            return ""
        return value

    def day(self, name: str, required: str) -> str:
        value = self.raw.get(name) or ""
        try:
            parsed = date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None:
            self.errors[name] = required
            return ""
        if parsed > date.today():
            self.errors[name] = "The date the information was shared must be today or in the past"
        return parsed.isoformat()


def check_details(raw: dict, guidance: Guidance, decision_id: str) -> dict:
    """Validate what the practitioner wrote for a record of this decision; raise RecordInvalid."""
    decision = guidance.content.decisions[decision_id]
    errors: dict[str, str] = {}
    read = FieldReader(raw, errors)
    details = {
        "subject_ref": read.text("subject_ref", "Enter a reference for the child or young person", limit=100),
        "consent_position": read.choice("consent_position", CONSENT_POSITIONS, "Select the consent position"),
        "advice_sought": read.choice("advice_sought", YES_NO, "Select whether you sought advice"),
        "notes": read.text("notes", limit=LONG),
        "other_practitioners": read.text("other_practitioners", limit=LONG),
    }
    details["consent_note"] = read.text(
        "consent_note", "Say why consent was not sought" if details["consent_position"] == "not_sought" else None,
        limit=LONG)
    details["advice_from"] = read.text(
        "advice_from", "Say who you sought advice from" if details["advice_sought"] == "yes" else None)
    if decision.shares:
        details.update({
            "information_shared": read.text("information_shared", "Describe the information you are sharing", limit=LONG),
            "recipient_name": read.text("recipient_name", "Enter the name of the person you are sharing with"),
            "recipient_job_title": read.text("recipient_job_title", "Enter their job title"),
            "recipient_organisation": read.text("recipient_organisation", "Enter their organisation"),
            "recipient_contact": read.text("recipient_contact", "Enter their contact details"),
            "share_method": read.choice("share_method", SHARE_METHODS, "Select how the information is shared"),
            "shared_on": read.day("shared_on", "Enter the date the information is shared"),
            "person_told": read.choice("person_told", YES_NO, "Select whether the person has been told"),
        })
        details["method_detail"] = read.text(
            "method_detail", "Say how the information is shared" if details["share_method"] == "other" else None)
        details["not_told_reason"] = read.text(
            "not_told_reason", "Say why the person has not been told" if details["person_told"] == "no" else None,
            limit=LONG)
        confirmed = raw.get("checklist") or []
        if isinstance(confirmed, str):
            confirmed = [confirmed]
        wanted = [item.id for item in guidance.content.sharing_checklist]
        if not isinstance(confirmed, list) or set(wanted) - set(confirmed):
            errors["checklist"] = "Confirm each point about sharing properly"
        details["checklist"] = [item for item in wanted if item in confirmed]
    if decision.without_consent:
        details["basis"] = read.choice("basis", BASES, "Select the legal basis for sharing without consent")
        details["basis_detail"] = read.text(
            "basis_detail", "Explain why the basis applies in this case", limit=LONG)
    # A choice sent where this decision does not ask for it is still one of those offered, or refused.
    for name, options in (("share_method", SHARE_METHODS), ("person_told", YES_NO), ("basis", BASES)):
        value = raw.get(name)
        if name not in details and value not in (None, "") and not (isinstance(value, str) and value in options):
            errors[name] = "Select one of the options offered, or leave it out"
    if errors:
        raise RecordInvalid(errors)
    return details


