"""Each agency's advice and countersignature policy, read from `content/advice_policy.yaml`.

Policy is data an agency chooses, not guidance: which decisions an adviser countersigns, whether
every decision by a newly qualified practitioner is countersigned, the working hours waiting
times are counted in and how long a request may wait before every adviser is told.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from pathlib import Path

from ..flows.content import CITE_PATTERN, open_content_file
from ..flows.yaml_lines import ContentError, Located

POLICY_FILE = "advice_policy.yaml"
TOP_KEYS = {"cite": True, "default": True, "agencies": False}
AGENCY_KEYS = {"countersign": False, "working_hours": False, "wait_limit_hours": False, "urgent_wait_limit_hours": False}
COUNTERSIGN_KEYS = {"decisions": False, "newly_qualified": False}
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class AgencyPolicy:
    countersign_decisions: frozenset[str] = frozenset()
    countersign_newly_qualified: bool = False
    day_starts: time = time(9, 0)
    day_ends: time = time(17, 0)
    wait_limit_hours: int = 4
    urgent_wait_limit_hours: int = 1

    def countersignature_rule(self, decision: str, newly_qualified: bool) -> str:
        """Why a record of this decision needs countersigning (a short label), or '' when it does not."""
        if decision in self.countersign_decisions:
            return f"decision:{decision}"
        if newly_qualified and self.countersign_newly_qualified:
            return "newly_qualified"
        return ""

    def wait_limit(self, urgent: bool) -> int:
        return self.urgent_wait_limit_hours if urgent else self.wait_limit_hours


@dataclass
class AdvicePolicy:
    default: AgencyPolicy
    agencies: dict[str, AgencyPolicy]

    def for_agency(self, agency: str) -> AgencyPolicy:
        return self.agencies.get(agency, self.default)


NO_POLICY = AdvicePolicy(default=AgencyPolicy(), agencies={})


def load_advice_policy(directory: Path, decisions: dict) -> AdvicePolicy:
    """Read and check the file; `decisions` are the decision ids the flowcharts define."""
    check, top = open_content_file(Path(directory) / POLICY_FILE, TOP_KEYS)

    def agency_policy(spec, line, what, base: AgencyPolicy) -> AgencyPolicy:
        spec = check.mapping(spec, line, what)
        if spec is None or not check.keys(spec, AGENCY_KEYS, what):
            return base
        values = dict(base.__dict__)
        if "countersign" in spec:
            rules = check.mapping(spec["countersign"], spec.line_of("countersign"), f"{what}: countersign")
            if rules is not None and check.keys(rules, COUNTERSIGN_KEYS, f"{what}: countersign"):
                wanted = rules.get("decisions", [])
                if not isinstance(wanted, list) or not all(isinstance(d, str) for d in wanted):
                    check.fail(rules.line_of("decisions"), f"{what}: countersign decisions must be a list of decision ids")
                    wanted = []
                for decision in wanted:
                    if decision not in decisions:
                        check.fail(rules.line_of("decisions"),
                                   f"{what}: unknown decision '{decision}' (expected one of: {', '.join(decisions)})")
                values["countersign_decisions"] = frozenset(wanted)
                newly = rules.get("newly_qualified", False)
                if not isinstance(newly, bool):
                    check.fail(rules.line_of("newly_qualified"), f"{what}: newly_qualified must be true or false")
                values["countersign_newly_qualified"] = newly is True
        if "working_hours" in spec:
            hours = spec["working_hours"]
            if not isinstance(hours, Located) or not all(TIME.match(str(hours.get(k, ""))) for k in ("start", "end")):
                check.fail(spec.line_of("working_hours"), f"{what}: working_hours needs start and end as HH:MM")
            else:
                start, end = (time.fromisoformat(str(hours[k])) for k in ("start", "end"))
                if start >= end:
                    check.fail(spec.line_of("working_hours"), f"{what}: working hours must start before they end")
                values["day_starts"], values["day_ends"] = start, end
        for name in ("wait_limit_hours", "urgent_wait_limit_hours"):
            if name in spec:
                value = spec[name]
                if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                    check.fail(spec.line_of(name), f"{what}: '{name}' must be a positive whole number")
                else:
                    values[name] = value
        return AgencyPolicy(**values)

    default = agency_policy(top.get("default"), top.line_of("default") if "default" in top else 1, "default",
                            AgencyPolicy())
    agencies = {}
    raw_agencies = top.get("agencies")
    if raw_agencies is not None:
        raw_agencies = check.mapping(raw_agencies, top.line_of("agencies"), "agencies") or {}
        for name in raw_agencies:
            agencies[str(name)] = agency_policy(raw_agencies[name], raw_agencies.line_of(name),
                                                f"agency '{name}'", default)
    cite = check.text(top, "cite", "the file")
    if cite and not CITE_PATTERN.search(cite):
        check.fail(top.line_of("cite"), "cite does not name a source and paragraph")
    if check.issues:
        raise ContentError(check.issues)
    return AdvicePolicy(default=default, agencies=agencies)
