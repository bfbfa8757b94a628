"""Read `content/index_policy.yaml`: recording option and visibility per service category."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..flows.content import CITE_PATTERN, ID_PATTERN, open_content_file
from ..flows.yaml_lines import ContentError

POLICY_FILE = "index_policy.yaml"
RECORDING = (1, 2, 3)
VISIBILITY = ("A", "B", "C")
ESSENTIAL = ("lead_professional", "child_protection_social_worker", "index_manager")
TOP_KEYS = {"cite": True, "essential": True, "categories": True, "lookup_reasons": True, "indicators": True, "rules": True}
CATEGORY_KEYS = {"label": True, "recording": True, "visibility": True, "cite": True}
INDICATOR_KEYS = {"label": True, "meaning": True, "cite": True}
RULES = {"closed_concern_visible_days": int, "review_after_days": int, "lookups_per_hour": int,
         "lookup_valid_minutes": int, "many_children_per_day": int, "subject_access_per_day": int, "out_of_hours": dict}
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    recording: int
    visibility: str
    cite: str


@dataclass
class IndexPolicy:
    categories: dict[str, Category]
    reasons: dict[str, str]
    indicators: dict[str, dict]
    rules: dict
    essential: tuple[str, ...] = field(default=ESSENTIAL)


def load_policy(directory: Path) -> IndexPolicy:
    check, top = open_content_file(Path(directory) / POLICY_FILE, TOP_KEYS)
    essential = top.get("essential") or []
    if sorted(essential) != sorted(ESSENTIAL):
        check.fail(top.line_of("essential"), f"essential must list {', '.join(ESSENTIAL)} (IDX §3.11)")
    categories = {}
    raw_categories = check.mapping(top.get("categories"), top.line_of("categories"), "categories") or {}
    for category_id, spec in raw_categories.items():
        what = f"category '{category_id}'"
        if not ID_PATTERN.match(category_id):
            check.fail(raw_categories.line_of(category_id), f"{what}: not a valid id")
        spec = check.mapping(spec, raw_categories.line_of(category_id), what)
        if spec is None or not check.keys(spec, CATEGORY_KEYS, what):
            continue
        if spec.get("recording") not in RECORDING:
            check.fail(spec.line_of("recording"), f"{what}: recording must be 1, 2 or 3")
        if spec.get("visibility") not in VISIBILITY:
            check.fail(spec.line_of("visibility"), f"{what}: visibility must be A, B or C")
        categories[category_id] = Category(category_id, check.text(spec, "label", what), spec.get("recording"),
                                           spec.get("visibility"), check.cite(spec, what))
    reasons = {}
    raw_reasons = check.mapping(top.get("lookup_reasons"), top.line_of("lookup_reasons"), "lookup_reasons") or {}
    for reason_id in raw_reasons:
        reasons[reason_id] = check.text(raw_reasons, reason_id, f"lookup reason '{reason_id}'")
    indicators = {}
    raw_indicators = check.mapping(top.get("indicators"), top.line_of("indicators"), "indicators") or {}
    for level in raw_indicators:
        spec = check.mapping(raw_indicators[level], raw_indicators.line_of(level), f"indicator '{level}'")
        if spec is not None and check.keys(spec, INDICATOR_KEYS, f"indicator '{level}'"):
            check.cite(spec, f"indicator '{level}'")
            indicators[level] = {"label": spec["label"], "meaning": spec["meaning"], "cite": spec["cite"]}
    if sorted(indicators) != ["action", "assessment", "information"]:
        check.fail(top.line_of("indicators"), "indicators must be information, action and assessment (IDX §1.9)")
    rules = check.mapping(top.get("rules"), top.line_of("rules"), "rules") or {}
    for name, kind in RULES.items():
        value = rules.get(name)
        if not isinstance(value, kind) or isinstance(value, bool) or (kind is int and value <= 0):
            check.fail(rules.line_of(name) if name in rules else rules.line, f"rules: '{name}' must be a positive {kind.__name__}")
    hours = rules.get("out_of_hours") or {}
    if isinstance(hours, dict) and not all(TIME.match(str(hours.get(k, ""))) for k in ("start", "end")):
        check.fail(rules.line_of("out_of_hours"), "rules: out_of_hours needs start and end as HH:MM")
    cite = check.text(top, "cite", "the file")
    if cite and not CITE_PATTERN.search(cite):
        check.fail(top.line_of("cite"), "cite does not name a source and paragraph")
    if check.issues:
        raise ContentError(check.issues)
    return IndexPolicy(categories=categories, reasons=reasons, indicators=indicators, rules=dict(rules))
