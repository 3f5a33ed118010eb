"""The segments endpoints' part of the OpenAPI document (settings.openapi adds it)."""

from __future__ import annotations

from segments import editing, served

_NUMBER = {"type": "number"}
_NULLABLE = {"type": ["number", "null"]}
_ID = {"type": "integer", "minimum": 1}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*statuses: int) -> dict:
    return {str(s): {"description": "See the message",
                     "content": {"application/json": {"schema": _ref("Error")}}}
            for s in statuses}


_POINT = {"type": "array", "minItems": 2, "maxItems": 3, "items": {"type": ["number", "null"]},
          "description": "[lat, lon] in degrees, or [lat, lon, elevation in metres]"}
_NAME = {"type": "string", "minLength": 1, "maxLength": editing.NAME_MAX}
_SEGMENT = {
    "id": {"type": "integer"}, "name": {"type": "string"}, "distance_m": _NUMBER,
    "ascent_m": _NULLABLE, "polyline": {"type": "string", "description": "Google's encoded "
                                         "polyline of the points (precision 5)"},
    "bbox": {"type": "object"},
    "created_at": {"type": "string", "format": "date-time"},
    "matching": {"type": "boolean", "description": "true while past activities are still "
                 "being matched against it"},
    "status": {"enum": ["matching", "ready", "dead"]},
}
_EFFORT = {
    "id": {"type": "integer"}, "segment_id": {"type": "integer"},
    "segment_name": {"type": "string"}, "activity_id": {"type": "integer"},
    "activity_name": {"type": "string"},
    "activity_start_time": {"type": ["string", "null"], "format": "date-time"},
    "start_time": {"type": ["string", "null"], "format": "date-time"},
    "lap": {"type": "integer", "description": "0 for the activity's first passage, 1 for its "
            "second…"},
    "start_index": {"type": "integer"}, "end_index": {"type": "integer"},
    "start_offset_s": _NUMBER, "end_offset_s": _NUMBER, "elapsed_s": _NUMBER,
    "moving_s": _NUMBER, "average_speed_mps": _NUMBER, "average_hr_bpm": _NULLABLE,
    "average_power_w": _NULLABLE,
    "rank": {"type": "integer", "minimum": 1, "description": "1 + your efforts on the "
             "segment that were faster"},
    "personal_best": {"type": "boolean"},
}

SCHEMAS = {
    "SegmentNew": {"oneOf": [
        {"type": "object", "required": ["name", "points"], "additionalProperties": False,
         "properties": {"name": _NAME, "points": {"type": "array", "minItems": 2,
                                                  "maxItems": editing.POINTS_MAX,
                                                  "items": _POINT}}},
        {"type": "object", "required": ["name", "activity_id", "start_index", "end_index"],
         "additionalProperties": False,
         "properties": {"name": _NAME, "activity_id": _ID,
                        "start_index": {"type": "integer", "minimum": 0},
                        "end_index": {"type": "integer", "minimum": 1}}}]},
    "SegmentEdit": {"type": "object", "required": ["name"], "additionalProperties": False,
                    "properties": {"name": _NAME}},
    "Segment": {"type": "object", "required": [*_SEGMENT, "points", "elevation_m"],
                "properties": {**_SEGMENT,
                               "points": {"type": "array", "items": _POINT},
                               "elevation_m": {"type": "array",
                                               "items": {"type": ["number", "null"]}}}},
    "SegmentList": {"type": "object", "required": ["segments", "next"], "properties": {
        "segments": {"type": "array", "items": {"type": "object", "required": list(_SEGMENT),
                                                "properties": _SEGMENT}},
        "next": {"type": ["string", "null"]}}},
    "EffortList": {"type": "object", "required": ["efforts"], "properties": {
        "efforts": {"type": "array", "items": {"type": "object", "required": list(_EFFORT),
                                               "properties": _EFFORT}},
        "next": {"type": ["string", "null"]}}},
}


def paths(get, ref) -> dict:
    """The paths, built with activities.openapi's helpers (`get`, `ref`)."""
    page = [{"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": served.LIMIT_MAX}},
            {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}}]
    segment_id = {"name": "segment_id", "in": "path", "required": True, "schema": _ID}
    return {
        "/api/v1/segments": {
            "parameters": page,
            **get("listSegments", "Your segments, newest first", ref("SegmentList"),
                  extra=(400,)),
            "post": {"operationId": "createSegment",
                     "summary": "Make a segment from points or a stretch of an activity",
                     "requestBody": {"required": True, **ref("SegmentNew")},
                     "responses": {"201": {"description": "Made", **ref("Segment")},
                                   **_errors(400, 401, 403, 404, 503)}}},
        "/api/v1/segments/{segment_id}": {
            "parameters": [segment_id],
            **get("getSegment", "One segment with its points", ref("Segment")),
            "patch": {"operationId": "renameSegment", "summary": "Rename a segment",
                      "requestBody": {"required": True, **ref("SegmentEdit")},
                      "responses": {"200": {"description": "Renamed", **ref("Segment")},
                                    **_errors(400, 401, 403, 404, 503)}},
            "delete": {"operationId": "deleteSegment",
                       "summary": "Delete a segment and its efforts",
                       "responses": {"204": {"description": "Deleted"},
                                     **_errors(401, 403, 404, 503)}}},
        "/api/v1/segments/{segment_id}/efforts": {
            "parameters": [segment_id, *page],
            **get("listSegmentEfforts", "The segment's efforts, best first",
                  ref("EffortList"), extra=(400,))},
        "/api/v1/activities/{activity_id}/efforts": {
            "parameters": [{"name": "activity_id", "in": "path", "required": True,
                            "schema": _ID}],
            **get("listActivityEfforts", "The activity's efforts on your segments, in the "
                  "order ridden", ref("EffortList"))},
    }
