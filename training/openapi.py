"""The training endpoints' part of the OpenAPI document (settings.openapi adds it)."""

from __future__ import annotations

from activities.edits import SPORTS
from activities.models import Gear
from training import gear
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


_GEAR = {
    "name": {"type": "string", "minLength": 1, "maxLength": gear.NAME_MAX},
    "kind": {"enum": list(Gear.Kind.values)},
    "sports": {"type": "array", "items": {"enum": sorted(SPORTS)},
               "description": "A new activity of one of these gets this gear (the oldest "
               "such gear not retired)."},
    "retired": {"type": "boolean"},
    "retire_at_km": {"type": ["integer", "null"], "minimum": 1,
                     "maximum": gear.RETIRE_MAX_KM},
}

SCHEMAS = {
    "GearNew": {"type": "object", "required": ["name", "kind"], "additionalProperties": False,
                "properties": _GEAR},
    "GearEdit": {"type": "object", "minProperties": 1, "additionalProperties": False,
                 "properties": {k: v for k, v in _GEAR.items() if k != "kind"}},
    "Gear": {"type": "object", "required": ["id", *_GEAR, "distance_m", "moving_s", "count"],
             "properties": {"id": {"type": "integer"}, **_GEAR,
                            "distance_m": {"type": "number"}, "moving_s": {"type": "number"},
                            "count": {"type": "integer", "description": "Activities with "
                                      "it, as the training book last counted them."}}},
    "GearList": {"type": "object", "required": ["gear", *_STATE],
                 "properties": {**_STATE, "gear": {"type": "array", "items": _ref("Gear")}}},
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
        "/api/v1/gear": {
            **get("listGear", "The owner's gear with its totals", ref("GearList")),
            "post": {"operationId": "createGear", "summary": "Add gear",
                     "requestBody": {"required": True, **ref("GearNew")},
                     "responses": {"201": {"description": "Added", **ref("Gear")},
                                   **_errors(400, 401, 403, 503)}}},
        "/api/v1/gear/{gear_id}": {
            "parameters": [{"name": "gear_id", "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 1}}],
            **get("getGear", "One gear with its totals", ref("Gear")),
            "patch": {"operationId": "editGear", "summary": "Rename, retire, set sports",
                      "requestBody": {"required": True, **ref("GearEdit")},
                      "responses": {"200": {"description": "Edited", **ref("Gear")},
                                    **_errors(400, 401, 403, 404, 503)}},
            "delete": {"operationId": "deleteGear",
                       "summary": "Remove gear (its activities keep none)",
                       "responses": {"204": {"description": "Deleted"},
                                     **_errors(401, 403, 404, 503)}}},
        "/api/v1/power-curve": {
            "parameters": [{"name": "range", "in": "query", "required": False,
                            "schema": {"enum": ["all", "90d"]}}],
            **get("getPowerCurve", "Best mean power per duration, with its activity",
                  ref("PowerCurve"), extra=(400,))},
    }
