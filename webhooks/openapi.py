"""The webhooks part of the OpenAPI document (settings/openapi.py merges it in)."""

from __future__ import annotations

from webhooks import events

_TIME = {"type": "string", "format": "date-time"}
_ID = {"type": "integer", "minimum": 1, "maximum": 999_999_999_999_999_999}
_EVENTS = {"type": "array", "minItems": 1, "items": {"enum": list(events.ALL)}}


def _json(name: str) -> dict:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}


def _errors(*statuses: int) -> dict:
    return {str(s): {"description": "See the message", **_json("Error")} for s in statuses}


SCHEMAS = {
    "WebhookNew": {"type": "object", "required": ["url", "events"], "properties": {
        "url": {"type": "string", "maxLength": 2000, "description": "http or https; never "
                "a private, loopback or link-local address unless the operator allows its "
                "network (CAIRN_WEBHOOK_ALLOW_NETWORKS), never Cairn itself"},
        "events": _EVENTS}},
    "Webhook": {"type": "object", "required": ["id", "url", "events", "created_at"],
                "properties": {"id": {"type": "integer"}, "url": {"type": "string"},
                               "events": _EVENTS, "created_at": _TIME,
                               "secret": {"type": "string", "pattern": "^whsec_",
                                          "description": "Only in the answer to POST: the "
                                          "Standard Webhooks signing secret."}}},
    "WebhookList": {"type": "object", "required": ["webhooks"], "properties": {
        "webhooks": {"type": "array", "items": {"$ref": "#/components/schemas/Webhook"}}}},
    "Deliveries": {"type": "object", "required": ["deliveries"], "properties": {
        "deliveries": {"type": "array", "description": "The newest 100, newest first.",
                       "items": {"type": "object", "properties": {
                           "id": {"type": "integer"}, "message_id": {"type": "string"},
                           "event": {"enum": list(events.ALL)},
                           "activity_id": {"type": ["integer", "null"]},
                           "status": {"enum": ["pending", "delivered", "dead"]},
                           "attempts": {"type": "integer"}, "created_at": _TIME,
                           "delivered_at": {"type": ["string", "null"], "format": "date-time"},
                           "next_attempt_at": {"type": ["string", "null"],
                                               "format": "date-time"},
                           "last_error": {"type": "string"},
                           "tries": {"type": "array", "items": {"type": "object", "properties": {
                               "at": _TIME, "status_code": {"type": ["integer", "null"]},
                               "error": {"type": "string"},
                               "duration_ms": {"type": "integer"}}}}}}}}},
}

_WEBHOOK_ID = [{"name": "webhook_id", "in": "path", "required": True, "schema": _ID}]

PATHS = {
    "/api/v1/webhooks": {
        "get": {"operationId": "listWebhooks", "summary": "The owner's webhooks",
                "responses": {"200": {"description": "OK", **_json("WebhookList")},
                              **_errors(401, 503)}},
        "post": {"operationId": "createWebhook",
                 "summary": "Subscribe a URL to events (signed per Standard Webhooks)",
                 "requestBody": {"required": True, **_json("WebhookNew")},
                 "responses": {"201": {"description": "Subscribed; keep the secret",
                                       **_json("Webhook")},
                               **_errors(400, 401, 403, 503),
                               "409": {"description": "TooManyWebhooks: the owner has "
                                       "CAIRN_WEBHOOKS_PER_USER webhooks already",
                                       **_json("Error")}}}},
    "/api/v1/webhooks/{webhook_id}": {
        "parameters": _WEBHOOK_ID,
        "get": {"operationId": "getWebhook", "summary": "A webhook (without its secret)",
                "responses": {"200": {"description": "OK", **_json("Webhook")},
                              **_errors(401, 404, 503)}},
        "delete": {"operationId": "deleteWebhook",
                   "summary": "Unsubscribe (deliveries still owed are dropped)",
                   "responses": {"204": {"description": "Deleted"},
                                 **_errors(401, 403, 404, 503)}}},
    "/api/v1/webhooks/{webhook_id}/deliveries": {
        "parameters": _WEBHOOK_ID,
        "get": {"operationId": "listWebhookDeliveries",
                "summary": "Deliveries and each try: time, status code or error, duration",
                "responses": {"200": {"description": "OK", **_json("Deliveries")},
                              **_errors(401, 404, 503)}}},
}
