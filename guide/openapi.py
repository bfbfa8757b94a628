"""The OpenAPI 3.1 description of /api/v1, with flowchart and decision ids taken from the content."""

from __future__ import annotations

from .recording import BASES, CONSENT_POSITIONS, SHARE_METHODS, YES_NO

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict:
    text = {400: "Bad request", 401: "No valid API token", 404: "Not found", 409: "Step refused: not the current question, or already recorded",
            422: "Record details incomplete or invalid"}
    return {str(code): _json(_ERROR, text[code]) for code in codes}


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
            "/api/v1/flowcharts": {"get": {"summary": "The flowcharts that can be walked", "responses": {
                "200": _json({"type": "object"}, "Flowcharts"), **_errors(401)}}},
            "/api/v1/walks": {"post": {
                "summary": "Start a walk: returns the first question",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["flowchart"],
                    "properties": {"flowchart": {"type": "string", "enum": flowcharts}}}}}},
                "responses": {"201": _json({"$ref": "#/components/schemas/Walk"}, "The new walk"), **_errors(400, 401)}}},
            "/api/v1/walks/{walk_id}": {"get": {
                "summary": "A walk's answers and current question or outcome", "parameters": [walk_id],
                "responses": {"200": _json({"$ref": "#/components/schemas/Walk"}, "The walk"), **_errors(401, 404)}}},
            "/api/v1/walks/{walk_id}/answers": {"post": {
                "summary": "Answer the current question: returns the next question or the outcome with reasons",
                "parameters": [walk_id],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["question", "answer"],
                    "properties": {"question": {"type": "string"}, "answer": {"type": "string"}}}}}},
                "responses": {"200": _json({"$ref": "#/components/schemas/Walk"}, "The walk after the answer"),
                              **_errors(400, 401, 404, 409)}}},
            "/api/v1/walks/{walk_id}/record": {"post": {
                "summary": "Save the finished walk as a decision record", "parameters": [walk_id],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RecordDetails"}}}},
                "responses": {"201": _json({"$ref": "#/components/schemas/Record"}, "The saved record"),
                              **_errors(400, 401, 404, 409, 422)}}},
            "/api/v1/records": {"get": {
                "summary": "The latest version of each record the token's user may see",
                "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                               {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}}],
                "responses": {"200": _json({"type": "object", "properties": {
                    "total": {"type": "integer"}, "records": {"type": "array", "items": {"$ref": "#/components/schemas/Record"}}}},
                    "Records"), **_errors(400, 401)}}},
            "/api/v1/records/{record_id}": {"get": {
                "summary": "One version of a decision record",
                "parameters": [{"name": "record_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _json({"$ref": "#/components/schemas/Record"}, "The record"), **_errors(401, 404)}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A token from `flask --app guide users token EMAIL`"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "properties": {
                    "status": {"type": "integer"}, "detail": {"type": "string"}}}}},
                "Question": {"type": "object", "required": ["id", "text", "answers"], "properties": {
                    "id": {"type": "string"}, "text": {"type": "string"}, "hint": {"type": "string"},
                    "help": {"type": "string"}, "cite": {"type": "string"}, "key": {"type": "boolean"},
                    "answers": {"type": "array", "items": {"type": "object", "properties": {
                        "value": {"type": "string"}, "label": {"type": "string"}}}}}},
                "Walk": {"type": "object", "required": ["id", "flowchart", "answers"], "properties": {
                    "id": {"type": "string"}, "flowchart": {"type": "string", "enum": flowcharts},
                    "content_version": {"type": "string"},
                    "answers": {"type": "array", "items": {"type": "object"}},
                    "question": {"oneOf": [{"$ref": "#/components/schemas/Question"}, {"type": "null"}]},
                    "outcome": {"oneOf": [{"type": "object", "properties": {
                        "id": {"type": "string"}, "decision": {"type": "string", "enum": decisions},
                        "title": {"type": "string"}, "cite": {"type": "string"},
                        "reasons": {"type": "array", "items": {"type": "object"}}}}, {"type": "null"}]}}},
                "RecordDetails": {"type": "object", "required": ["subject_ref", "consent_position", "advice_sought"],
                    "description": "Fields marked in the descriptions are required when the outcome's decision shares, or shares without consent.",
                    "properties": {
                        "subject_ref": text(100), "consent_position": {"type": "string", "enum": list(CONSENT_POSITIONS)},
                        "consent_note": text(5000), "advice_sought": {"type": "string", "enum": list(YES_NO)},
                        "advice_from": text(200), "notes": text(5000),
                        "information_shared": text(5000), "recipient_name": text(200), "recipient_job_title": text(200),
                        "recipient_organisation": text(200), "recipient_contact": text(200),
                        "share_method": {"type": "string", "enum": list(SHARE_METHODS)}, "method_detail": text(200),
                        "shared_on": {"type": "string", "format": "date"},
                        "person_told": {"type": "string", "enum": list(YES_NO)}, "not_told_reason": text(5000),
                        "checklist": {"type": "array", "items": {"type": "string", "enum": checklist}},
                        "basis": {"type": "string", "enum": list(BASES)}, "basis_detail": text(5000)}},
                "Record": {"type": "object", "required": ["id", "reference", "version", "decision"], "properties": {
                    "id": {"type": "string"}, "reference": {"type": "string"}, "version": {"type": "integer"},
                    "supersedes": {"type": ["string", "null"]}, "created_at": {"type": "string", "format": "date-time"},
                    "flowchart": {"type": "string"}, "content_version": {"type": "string"}, "walk": {"type": "string"},
                    "agency": {"type": "string"}, "team": {"type": "string"}, "subject_ref": {"type": "string"},
                    "decision": {"type": "string", "enum": decisions}, "outcome": {"type": "object"},
                    "consent_position": {"type": "string"}, "author": {"type": "object"},
                    "answers": {"type": "array", "items": {"type": "object"}}, "details": {"type": "object"},
                    "correction_reason": {"type": "string"}}},
            },
        },
    }
