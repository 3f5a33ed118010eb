"""The training endpoints' part of the OpenAPI document (settings.openapi adds it)."""

from __future__ import annotations

from training.models import Threshold
from training.thresholds import RANGES

_NUMBER = {"type": "number"}
_STATE = {
    "current": {"type": "boolean", "description": "false while a rebuild is owed: the "
                "answer is the last build's."},
    "status": {"enum": ["none", "queued", "ready", "dead"]},
    "built_at": {"type": ["string", "null"], "format": "date-time"},
}
_THRESHOLD = {
    "kind": {"enum": list(Threshold.Kind.values)},
    "value": {"type": "integer", "description": "W for ftp, bpm for the others; ranges: "
              + ", ".join(f"{k} {lo}–{hi}" for k, (lo, hi) in RANGES.items())},
    "from": {"type": "string", "format": "date", "description": "The first day in force."},
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*statuses: int) -> dict:
    return {str(s): {"description": "See the message",
                     "content": {"application/json": {"schema": _ref("Error")}}}
            for s in statuses}


SCHEMAS = {
    "ThresholdNew": {"type": "object", "required": ["kind", "value", "from"],
                     "additionalProperties": False, "properties": _THRESHOLD},
    "Threshold": {"type": "object", "required": ["id", "kind", "value", "from"],
                  "properties": {"id": {"type": "integer"}, **_THRESHOLD}},
    "ThresholdList": {"type": "object", "required": ["thresholds"], "properties": {
        "thresholds": {"type": "array", "items": _ref("Threshold")}}},
    "Fitness": {"type": "object", "required": ["from", "to", "days", *_STATE],
                "properties": {**_STATE, "from": {"type": "string", "format": "date"},
                               "to": {"type": "string", "format": "date"},
                               "days": {"type": "array", "items": {
                                   "type": "object",
                                   "required": ["date", "load", "fitness", "fatigue", "form"],
                                   "properties": {"date": {"type": "string", "format": "date"},
                                                  "load": _NUMBER, "fitness": _NUMBER,
                                                  "fatigue": _NUMBER, "form": _NUMBER}}}}},
    "PowerCurve": {"type": "object", "required": ["range", "points", *_STATE],
                   "properties": {**_STATE, "range": {"enum": ["all", "90d"]},
                                  "points": {"type": "array", "items": {
                                      "type": "object",
                                      "required": ["duration_s", "watts", "activity_id"],
                                      "properties": {"duration_s": {"type": "integer"},
                                                     "watts": _NUMBER,
                                                     "activity_id": {"type": "integer"}}}}}},
}


def paths(get, ref) -> dict:
    """The paths, built with activities.openapi's helpers (`get`, `ref`)."""
    dates = [{"name": name, "in": "query", "required": False,
              "schema": {"type": "string", "format": "date"}} for name in ("from", "to")]
    return {
        "/api/v1/thresholds": {
            **get("listThresholds", "The owner's thresholds, by kind then day",
                  ref("ThresholdList")),
            "post": {"operationId": "putThreshold",
                     "summary": "Set a threshold from a day on (replacing that day's)",
                     "requestBody": {"required": True, **ref("ThresholdNew")},
                     "responses": {"201": {"description": "Added", **ref("Threshold")},
                                   "200": {"description": "Replaced", **ref("Threshold")},
                                   **_errors(400, 401, 403, 503)}}},
        "/api/v1/fitness": {
            "parameters": dates,
            **get("getFitness", "Load, fitness, fatigue and form per day (default: the "
                  "last 90 days)", ref("Fitness"), extra=(400,))},
        "/api/v1/power-curve": {
            "parameters": [{"name": "range", "in": "query", "required": False,
                            "schema": {"enum": ["all", "90d"]}}],
            **get("getPowerCurve", "Best mean power per duration, with its activity",
                  ref("PowerCurve"), extra=(400,))},
    }
