"""The safeguarding process after a referral: each flow by role, and its timescales as dates."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, render_template, request

from ..web import guidance, login_required
from .timeline import compute_timeline, timeline_ics

bp = Blueprint("process", __name__, template_folder="templates")


def _process_flowcharts():
    return [chart for chart in guidance().content.flowcharts.values() if chart.is_process]


def _role(value: str | None) -> str | None:
    return value if value in guidance().content.roles else None


def _in_order(chart):
    """The flowchart's questions and stages in the order a walk meets them (breadth first)."""
    order, queue = [], [chart.start]
    while queue:
        node_id = queue.pop(0)
        if node_id in order:
            continue
        order.append(node_id)
        question = chart.questions.get(node_id)
        if question:
            queue.extend(route.goto for answer in question.answers for route in answer.routes)
    return [chart.node(node_id) for node_id in order]


@bp.app_template_filter("role_label")
def role_label(role_id: str) -> str:
    role = guidance().content.roles.get(role_id)
    return role.label if role else role_id


@bp.app_template_filter("in_sentence")
def in_sentence(label: str) -> str:
    """A label inside a sentence: "Your part as the practitioner", not "as The practitioner"."""
    return label[0].lower() + label[1:] if label.startswith(("The ", "Your ")) else label


@bp.get("/process")
@login_required
def index():
    role = _role(request.args.get("role"))
    # With a role chosen, the page shows that role's part of every stage and nothing else.
    parts = [(chart, _steps_for(chart, role)) for chart in _process_flowcharts()] if role else []
    return render_template("process/index.html", flowcharts=_process_flowcharts(), role=role,
                           roles=guidance().content.roles, parts=[(c, s) for c, s in parts if s],
                           timescales=guidance().content.timescales)


def _steps_for(chart, role: str | None) -> list:
    mine = {node.id for node in guidance().content.steps_for(chart, role)}
    return [node for node in _in_order(chart) if node.id in mine]


@bp.get("/process/<flowchart_id>")
@login_required
def flow(flowchart_id: str):
    chart = guidance().content.flowcharts.get(flowchart_id)
    if chart is None or not chart.is_process:
        abort(404)
    role = _role(request.args.get("role"))
    return render_template("process/flow.html", chart=chart, steps=_steps_for(chart, role),
                           all_steps=_steps_for(chart, None), role=role,
                           roles=guidance().content.roles, timescales=guidance().content.timescales,
                           flowcharts=guidance().content.flowcharts)


def _event_dates() -> tuple[dict[str, date], dict[str, str], dict[str, dict]]:
    """Dates from the form's day/month/year fields (GET, so the timeline can be bookmarked)."""
    dates, errors, values = {}, {}, {}
    for event_id, event in guidance().content.events.items():
        parts = {part: request.args.get(f"{event_id}-{part}", "").strip() for part in ("day", "month", "year")}
        values[event_id] = parts
        if not any(parts.values()):
            continue
        try:
            dates[event_id] = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
        except ValueError:
            errors[event_id] = f"{event.label} must be a real date, for example 23 11 2026"
            continue
        if not 2000 <= dates[event_id].year <= 2100:
            errors[event_id] = f"{event.label} must be a date between 2000 and 2100"
            del dates[event_id]
    return dates, errors, values


def _timeline(role: str | None):
    dates, errors, values = _event_dates()
    scales = [t for t in guidance().content.timescales.values() if role is None or not t.who or role in t.who
              or "all_practitioners" in t.who]
    return compute_timeline(scales, dates), dates, errors, values


@bp.get("/process/timeline")
@login_required
def timeline():
    role = _role(request.args.get("role"))
    dues, dates, errors, values = _timeline(role)
    return render_template("process/timeline.html", dues=dues, dates=dates, errors=errors, values=values,
                           events=guidance().content.events, roles=guidance().content.roles, role=role,
                           query=request.query_string.decode()), (400 if errors else 200)


@bp.get("/process/timeline.ics")
@login_required
def timeline_calendar():
    dues, _dates, errors, _values = _timeline(_role(request.args.get("role")))
    if errors or not dues:
        abort(400)
    return Response(timeline_ics(dues, uid_domain=request.host.split(":")[0] or "guide.invalid"),
                    mimetype="text/calendar",
                    headers={"Content-Disposition": "attachment; filename=safeguarding-timeline.ics"})
