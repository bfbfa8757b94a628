"""Fuzzing the JSON API with schemathesis: no input makes a server error, every answer is as documented.

The schema is the one the app serves at /api/v1/openapi.json; requests go to the app in process
(WSGI), as a real practitioner with a real bearer token, on the real content. Every operation gets
generated data, valid and invalid, and each response is checked: not a 5xx, a documented status
code, the documented content type, a body that fits the documented schema, invalid data refused,
valid data accepted.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings

from guide.accounts.users import find_by_email, issue_token

from tests.conftest import REAL_CONTENT, USERS, build_app

# Bounded so the file runs in well under a minute and a half on a slow 2-core machine, and
# derandomized so CI draws the same cases every run.
FUZZ = settings(max_examples=25, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


# What a practitioner fills in for a decision to share without consent: enough for any outcome.
FILLED_IN = {"subject_ref": "FUZZ-1", "consent_position": "refused", "advice_sought": "no",
             "information_shared": "Attendance record.", "recipient_name": "Dana Social",
             "recipient_job_title": "Social worker", "recipient_organisation": "Children's Services",
             "recipient_contact": "dana@example.org", "share_method": "secure_system", "person_told": "yes",
             "basis": "public_interest", "basis_detail": "Risk of significant harm."}


def _token(app, who: str) -> str:
    session = app.extensions["db_sessions"]()
    try:
        token = issue_token(session, find_by_email(session, USERS[who]["email"]))
        session.commit()
        return token
    finally:
        session.close()


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory):
    return build_app(tmp_path_factory.mktemp("fuzz"), REAL_CONTENT)


@pytest.fixture(scope="module")
def api_schema(fuzzed_app):
    config = schemathesis.Config.from_dict({
        # Every request as a real practitioner with a real token.
        "headers": {"Authorization": f"Bearer {_token(fuzzed_app, 'practitioner')}"},
        "checks": {
            # Whether a well-formed answer or record is accepted depends on the walk it is sent to (its
            # current question, its outcome), which no schema can say: refusing one with the documented
            # 400, 409 or 422 is right. A 5xx is still a failure, of `not_a_server_error`.
            "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409", "422", "429", "5xx"]},
        },
    })
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzzed_app, config=config)


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request):
    # schemathesis 4.32's from_fixture reads and renames `request.node._nodeid`, which pytest 9.2 no
    # longer has (it keeps `_id` behind `nodeid`): give it one to read; renaming it changes nothing.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@FUZZ
def test_every_operation_answers_as_documented(case):
    case.call_and_validate()


def test_walks_answered_and_recorded_in_sequence(api_schema, fuzzed_app):
    """Stateful: follow the document's links from a new walk, answering question after question
    with the answers it offers, then saving the finished walk as a record and reading it back."""
    seen = Counter()
    details = api_schema.raw_schema["components"]["schemas"]["RecordDetails"]["properties"]
    complete = {**FILLED_IN, "shared_on": date.today().isoformat(), "checklist": details["checklist"]["items"]["enum"]}

    # Walks of the safeguarding process are refused as records (tested one by one above): the sequences
    # walk the decision flowcharts, so that reaching a saved record does not rest on the luck of the draw.
    deciding = sorted(chart.id for chart in fuzzed_app.extensions["guidance"].listed_flowcharts())

    # The walk-to-record sequences: the advice operations (fuzzed one by one above) would only dilute them.
    class Sequences(api_schema.exclude(tag="advice").as_state_machine()):
        def before_call(self, case):
            if case.operation.label == "POST /api/v1/walks" and isinstance(case.body, dict) \
                    and case.body.get("flowchart") not in deciding:
                case.body = {**case.body, "flowchart": deciding[len(str(case.body.get("flowchart"))) % len(deciding)]}
            # A generated record rarely has every field a sharing decision needs: fill in those it left
            # out (what it did generate is sent as it is), so that some walks are saved and read back.
            if case.operation.label == "POST /api/v1/walks/{walk_id}/record" and isinstance(case.body, dict):
                case.body = {**complete, **case.body}

        def after_call(self, response, case):
            super().after_call(response, case)
            seen[case.operation.label, response.status_code] += 1

    # No shrinking: each sequence leaves walks and records behind, so a replay meets another database
    # and would only wander; the failing sequence is reported as found, with a curl line per step.
    # 60 sequences: with 30, a change to the schema (the record's field order) or to which test modules
    # are imported left some runs with no walk finished and saved, by the luck of the draw.
    Sequences.run(settings=settings(FUZZ, max_examples=60, stateful_step_count=12,
                                    phases=[Phase.explicit, Phase.generate]))
    # The sequences went somewhere: questions answered, walks finished and saved, records read back.
    reached = {("POST /api/v1/walks/{walk_id}/answers", 200), ("POST /api/v1/walks/{walk_id}/record", 201),
               ("GET /api/v1/records/{record_id}", 200)}
    assert reached <= set(seen), sorted(seen.items())
