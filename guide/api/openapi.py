"""The OpenAPI 3.1 description of /api/v1, with flowchart and decision ids taken from the content."""

from __future__ import annotations

from ..records.form import BASES, CONSENT_POSITIONS, SHARE_METHODS, YES_NO

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict:
    text = {400: "Bad request", 401: "No valid API token", 403: "Refused: e.g. countersigning your own record", 404: "Not found", 409: "Step refused: not the current question, or already recorded",
            413: "The request body is larger than the service takes", 422: "Record details incomplete or invalid"}
    return {str(code): _json(_ERROR, text[code]) for code in codes}


SHARES = "the outcome's decision shares"
WITHOUT_CONSENT = "the outcome's decision shares without consent"


def when(schema: dict, condition: str) -> dict:
    """A field that must be given (and not blank) under a condition no JSON schema can see: the walk's outcome."""
    return {**schema, "description": f"Required when {condition}"}


def _walk_links() -> dict:
    """Where a walk can go next (OpenAPI links): look at it, answer its question, or save it as a record."""
    walk_id = {"walk_id": "$response.body#/id"}
    links = {"GetWalk": {"operationId": "getWalk", "parameters": walk_id},
             "SaveRecord": {"operationId": "saveRecord", "parameters": walk_id,
                            "description": "Once the walk has an outcome: save it as a decision record"}}
    for n in range(3):
        links[f"Answer{n + 1}"] = {
            "operationId": "answerQuestion", "parameters": walk_id,
            "description": f"Answer the current question with its answer number {n + 1}",
            "requestBody": {"question": "$response.body#/question/id",
                            "answer": f"$response.body#/question/answers/{n}/value"}}
    return links


def openapi_document(guidance) -> dict:
    flowcharts = list(guidance.content.flowcharts)
    decisions = list(guidance.content.decisions)
    checklist = [item.id for item in guidance.content.sharing_checklist]
    text = lambda limit: {"type": "string", "maxLength": limit}  # noqa: E731
    walk_id = {"name": "walk_id", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Information sharing guide API", "version": "1.0.0",
                 "description": "Walk the guidance's flowcharts and save decision records. "
                                f"Content version {guidance.version}."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/flowcharts": {"get": {"operationId": "listFlowcharts", "summary": "The flowcharts that can be walked", "responses": {
                "200": _json({"type": "object", "required": ["flowcharts", "content_version"], "properties": {
                    "flowcharts": {"type": "array", "items": {"type": "object", "required": ["id", "title", "start"], "properties": {
                        "id": {"type": "string", "enum": flowcharts}, "title": {"type": "string"},
                        "summary": {"type": "string"}, "cite": {"type": "string"},
                        "start": {"type": "string", "description": "The id of the first question"}}}},
                    "content_version": {"type": "string"}}}, "Flowcharts"), **_errors(401)}}},
            "/api/v1/walks": {"post": {
                "operationId": "startWalk", "summary": "Start a walk: returns the first question",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["flowchart"],
                    "properties": {"flowchart": {"type": "string", "enum": flowcharts}}}}}},
                "responses": {"201": {**_json({"$ref": "#/components/schemas/Walk"}, "The new walk"), "links": _walk_links()},
                              **_errors(400, 401, 413)}}},
            "/api/v1/walks/{walk_id}": {"get": {
                "operationId": "getWalk", "summary": "A walk's answers and current question or outcome", "parameters": [walk_id],
                "responses": {"200": _json({"$ref": "#/components/schemas/Walk"}, "The walk"), **_errors(401, 404)}}},
            "/api/v1/walks/{walk_id}/answers": {"post": {
                "operationId": "answerQuestion", "summary": "Answer the current question: returns the next question or the outcome with reasons",
                "parameters": [walk_id],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["question", "answer"],
                    "properties": {"question": {"type": "string"}, "answer": {"type": "string"}}}}}},
                "responses": {"200": {**_json({"$ref": "#/components/schemas/Walk"}, "The walk after the answer"),
                                      "links": _walk_links()},
                              **_errors(400, 401, 404, 409, 413)}}},
            "/api/v1/walks/{walk_id}/record": {"post": {
                "operationId": "saveRecord", "summary": "Save the finished walk as a decision record", "parameters": [walk_id],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RecordDetails"}}}},
                "responses": {"201": {**_json({"$ref": "#/components/schemas/Record"}, "The saved record"), "links": {
                                  "GetRecord": {"operationId": "getRecord", "parameters": {"record_id": "$response.body#/id"}}}},
                              **_errors(400, 401, 404, 409, 413, 422)}}},
            "/api/v1/records": {"get": {
                "operationId": "listRecords", "summary": "The latest version of each record the token's user may see",
                "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                               {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}}],
                "responses": {"200": _json({"type": "object", "required": ["total", "limit", "offset", "records"], "properties": {
                    "total": {"type": "integer"}, "limit": {"type": "integer"}, "offset": {"type": "integer"},
                    "records": {"type": "array", "items": {"$ref": "#/components/schemas/Record"}}}},
                    "Records"), **_errors(400, 401)}}},
            **_advice_paths(walk_id),
            "/api/v1/records/{record_id}": {"get": {
                "operationId": "getRecord", "summary": "One version of a decision record",
                "parameters": [{"name": "record_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _json({"$ref": "#/components/schemas/Record"}, "The record"), **_errors(401, 404)}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A token from `flask --app guide users token EMAIL`"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["status", "detail"], "properties": {
                        "status": {"type": "integer"}, "title": {"type": "string"}, "detail": {"type": "string"},
                        "current_question": {"type": ["string", "null"],
                                             "description": "A refused answer: the question the walk is waiting for"},
                        "fields": {"type": "object", "additionalProperties": {"type": "string"},
                                   "description": "An incomplete record: what is wrong with each field"}}}}},
                "Question": {"type": "object", "required": ["id", "text", "answers"], "properties": {
                    "id": {"type": "string"}, "text": {"type": "string"}, "hint": {"type": "string"},
                    "help": {"type": "string"}, "cite": {"type": "string"}, "key": {"type": "boolean"},
                    "answers": {"type": "array", "items": {"type": "object", "properties": {
                        "value": {"type": "string"}, "label": {"type": "string"}}}}}},
                "Walk": {"type": "object", "required": ["id", "flowchart", "answers"], "properties": {
                    "id": {"type": "string"}, "flowchart": {"type": "string", "enum": flowcharts},
                    "content_version": {"type": "string"},
                    "answers": {"type": "array", "items": {"type": "object", "required": ["question", "answer"], "properties": {
                        "question": {"type": "string"}, "answer": {"type": "string"}}}},
                    "question": {"oneOf": [{"$ref": "#/components/schemas/Question"}, {"type": "null"}]},
                    "outcome": {"oneOf": [{"type": "object", "properties": {
                        "id": {"type": "string"},
                        "decision": {"type": "string", "enum": [*decisions, ""],
                                     "description": "Empty for the safeguarding process flowcharts: their outcomes "
                                                    "are steps to take, not decisions about sharing"},
                        "title": {"type": "string"}, "body": {"type": "string"}, "cite": {"type": "string"},
                        "reasons": {"type": "array", "items": {"type": "object"}}}}, {"type": "null"}]}}},
                "RecordDetails": {"type": "object", "required": ["subject_ref", "consent_position", "advice_sought"],
                    "description": "Fields whose description says 'Required when' must be given, and not blank, when that holds.",
                    "properties": {
                        "subject_ref": {**text(100), "description": "Not blank"},
                        "consent_position": {"type": "string", "enum": list(CONSENT_POSITIONS)},
                        "consent_note": when(text(5000), "consent_position is not_sought"),
                        "advice_sought": {"type": "string", "enum": list(YES_NO)},
                        "advice_from": when(text(200), "advice_sought is yes"), "notes": text(5000),
                        "other_practitioners": text(5000),
                        "information_shared": when(text(5000), SHARES), "recipient_name": when(text(200), SHARES),
                        "recipient_job_title": when(text(200), SHARES), "recipient_organisation": when(text(200), SHARES),
                        "recipient_contact": when(text(200), SHARES),
                        "share_method": when({"type": "string", "enum": list(SHARE_METHODS)}, SHARES),
                        "method_detail": when(text(200), "share_method is other"),
                        "shared_on": when({"type": "string", "format": "date"}, SHARES + " (today or earlier)"),
                        "person_told": when({"type": "string", "enum": list(YES_NO)}, SHARES),
                        "not_told_reason": when(text(5000), "person_told is no"),
                        "checklist": when({"type": "array", "items": {"type": "string", "enum": checklist}},
                                          SHARES + ", with every item"),
                        "basis": when({"type": "string", "enum": list(BASES)}, WITHOUT_CONSENT),
                        "basis_detail": when(text(5000), WITHOUT_CONSENT)}},
                **_ADVICE_SCHEMAS,
                "Record": {"type": "object", "required": ["id", "reference", "version", "decision"], "properties": {
                    "id": {"type": "string"}, "reference": {"type": "string"}, "version": {"type": "integer"},
                    "supersedes": {"type": ["string", "null"]}, "created_at": {"type": "string", "format": "date-time"},
                    "flowchart": {"type": "string"}, "content_version": {"type": "string"}, "walk": {"type": "string"},
                    "agency": {"type": "string"}, "team": {"type": "string"}, "subject_ref": {"type": "string"},
                    "decision": {"type": "string", "enum": decisions}, "outcome": {"type": "object"},
                    "consent_position": {"type": "string"}, "author": {"type": "object"},
                    "answers": {"type": "array", "items": {"type": "object"}}, "details": {"type": "object"},
                    "correction_reason": {"type": "string"},
                    "advice": {"type": "array", "items": {"type": "object"},
                               "description": "What advisers said on the walk (who, role, when, what), frozen with the record"}}},
            },
        },
    }


# --- advice and sign-off (guide/api/advice.py) -------------------------------------------------

_PERSON = {"type": "object", "properties": {"name": {"type": "string"}, "job_title": {"type": "string"},
                                            "adviser_role": {"type": "string"}, "agency": {"type": "string"}}}
_ADVICE_SCHEMAS = {
    "AdviceRequest": {"type": "object", "required": ["id", "state", "named", "urgent"], "properties": {
        "id": {"type": "string"}, "walk": {"type": ["string", "null"], "description": "Only for the practitioner who asked"},
        "practitioner": _PERSON, "adviser": _PERSON,
        "question": {"type": ["string", "null"], "description": "The question it was asked at; null when asked at the outcome"},
        "named": {"type": "boolean"},
        "subject_ref": {"type": ["string", "null"], "description": "The child's reference, only when the practitioner named the child"},
        "urgent": {"type": "boolean"}, "state": {"type": "string", "enum": ["open", "closed"]},
        "created_at": {"type": "string", "format": "date-time"},
        "waiting_hours": {"type": ["number", "null"], "description": "Working hours waited for an adviser, in the agency's hours"},
        "overdue": {"type": "boolean"},
        "messages": {"type": "array", "items": {"type": "object", "properties": {
            "kind": {"type": "string", "enum": ["ask", "advice", "question", "offline", "reply", "close"]},
            "author": _PERSON, "text": {"type": "string"}, "suggestion": {"type": ["object", "null"]},
            "at": {"type": "string", "format": "date-time"}}}}}},
    "Countersignature": {"type": "object", "required": ["state", "record"], "properties": {
        "state": {"type": "string", "enum": ["countersigned", "returned"]}, "by": {"oneOf": [_PERSON, {"type": "null"}]},
        "note": {"type": "string"}, "at": {"type": "string", "format": "date-time"}, "record": {"type": "string"}}},
}


def _advice_paths(walk_id: dict) -> dict:
    request_id = {"name": "request_id", "in": "path", "required": True, "schema": {"type": "string"}}
    record_id = {"name": "record_id", "in": "path", "required": True, "schema": {"type": "string"}}
    request = {"$ref": "#/components/schemas/AdviceRequest"}
    text = {"type": "string", "maxLength": 5000}
    body = lambda schema: {"required": True, "content": {"application/json": {"schema": schema}}}  # noqa: E731
    return {
        "/api/v1/advisers": {"get": {
            "operationId": "listAdvisers", "tags": ["advice"], "summary": "The advisers of the token's user's agency",
            "responses": {"200": _json({"type": "object", "required": ["advisers"], "properties": {"advisers": {
                "type": "array", "items": {**_PERSON, "properties": {**_PERSON["properties"], "id": {"type": "integer"}}}}}},
                "Advisers"), **_errors(401)}}},
        "/api/v1/walks/{walk_id}/advice-requests": {"post": {
            "operationId": "askForAdvice", "tags": ["advice"], "parameters": [walk_id],
            "summary": "Ask an adviser of your agency about your walk, naming the child or not",
            "requestBody": body({"type": "object", "required": ["adviser", "question", "named"], "properties": {
                "adviser": {"type": "integer", "description": "An adviser's id from listAdvisers"},
                "question": {**text, "description": "What you are unsure about; not the child's name"},
                "named": {"type": "boolean"}, "subject_ref": {"type": "string", "maxLength": 100,
                                                              "description": "Required when named is true"},
                "urgent": {"type": "boolean"},
                "at_question": {"type": "string", "description": "The question of the walk it is about (optional)"}}}),
            "responses": {"201": _json(request, "The request"), **_errors(400, 401, 404, 409, 413, 422)}}},
        "/api/v1/advice-requests": {"get": {
            "operationId": "listAdviceRequests","tags": ["advice"], 
            "summary": "Your requests; for an adviser also the agency's open requests (urgent first) and records awaiting countersignature",
            "responses": {"200": _json({"type": "object", "required": ["asked", "queue", "awaiting_countersignature"], "properties": {
                "asked": {"type": "array", "items": request}, "queue": {"type": "array", "items": request},
                "awaiting_countersignature": {"type": "array", "items": {"type": "string"}}}}, "Requests"), **_errors(401)}}},
        "/api/v1/advice-requests/{request_id}": {"get": {
            "operationId": "getAdviceRequest", "tags": ["advice"], "parameters": [request_id], "summary": "A request and its conversation",
            "responses": {"200": _json(request, "The request"), **_errors(401, 404)}}},
        "/api/v1/advice-requests/{request_id}/messages": {"post": {
            "operationId": "addAdviceMessage", "tags": ["advice"], "parameters": [request_id],
            "summary": "An adviser's advice, question back or 'taking this offline'; the practitioner's reply",
            "requestBody": body({"type": "object", "required": ["text"], "properties": {
                "kind": {"type": "string", "enum": ["advice", "question", "offline", "reply"]}, "text": text,
                "suggest_question": {"type": "string"}, "suggest_answer": {"type": "string"}}}),
            "responses": {"201": _json(request, "The request with the new message"), **_errors(400, 401, 404, 409, 413, 422)}}},
        "/api/v1/advice-requests/{request_id}/close": {"post": {
            "operationId": "closeAdviceRequest", "tags": ["advice"], "parameters": [request_id], "summary": "Close the conversation",
            "responses": {"200": _json(request, "The closed request"), **_errors(401, 404, 409, 413, 422)}}},
        "/api/v1/records/{record_id}/countersignature": {
            "get": {"operationId": "getCountersignature", "tags": ["advice"], "parameters": [record_id],
                    "summary": "Whether the record needs, awaits or has its countersignature",
                    "responses": {"200": _json({"type": "object", "required": ["record", "state"], "properties": {
                        "record": {"type": "string"},
                        "state": {"type": "string", "enum": ["not_required", "awaiting", "countersigned", "returned"]},
                        "rule": {"type": ["string", "null"]},
                        "outcome": {"oneOf": [{"$ref": "#/components/schemas/Countersignature"}, {"type": "null"}]}}},
                        "Countersignature state"), **_errors(401, 404)}},
            "post": {"operationId": "countersignRecord", "tags": ["advice"], "parameters": [record_id],
                     "summary": "An adviser of the record's agency countersigns it, or returns it with reasons",
                     "requestBody": body({"type": "object", "required": ["action"], "properties": {
                         "action": {"type": "string", "enum": ["countersign", "return"]},
                         "note": {**text, "description": "Required when returning"}}}),
                     "responses": {"201": _json({"$ref": "#/components/schemas/Countersignature"}, "Done"),
                                   **_errors(400, 401, 403, 404, 409, 413, 422)}}},
    }
