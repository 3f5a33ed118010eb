"""The sharing part of the OpenAPI document (settings/openapi.py merges it in)."""

from __future__ import annotations

from core import privacy


def _json(name: str) -> dict:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}


def _errors(*statuses: int) -> dict:
    return {str(s): {"description": "See the message", **_json("Error")} for s in statuses}


_ZONE_FIELDS = {
    "lat": {"type": "number", "minimum": -90, "maximum": 90},
    "lon": {"type": "number", "minimum": -180, "maximum": 180},
    "radius_m": {"type": "number", "minimum": privacy.RADIUS_MIN_M,
                 "maximum": privacy.RADIUS_MAX_M}}
_TRIM = {"type": "number", "minimum": 0, "maximum": privacy.TRIM_MAX_M}
_TRIMS = {"trim_start_m": _TRIM, "trim_end_m": _TRIM}
_VISIBILITY = {"enum": ["private", "unlisted", "public"],
               "description": "What a new upload becomes once processed"}

SCHEMAS = {
    "PrivacyZoneNew": {"type": "object", "additionalProperties": False,
                       "required": ["lat", "lon", "radius_m"], "properties": _ZONE_FIELDS},
    "PrivacyZone": {"type": "object", "required": ["id", "lat", "lon", "radius_m"],
                    "properties": {"id": {"type": "integer"}, **_ZONE_FIELDS}},
    "PrivacyZoneList": {"type": "object", "required": ["zones"], "properties": {
        "zones": {"type": "array", "items": {"$ref": "#/components/schemas/PrivacyZone"}}}},
    "PrivacyTrims": {"type": "object", "additionalProperties": False, "minProperties": 1,
                     "properties": _TRIMS},
    "PrivacySettings": {"type": "object", "additionalProperties": False, "minProperties": 1,
                        "properties": {**_TRIMS, "default_visibility": _VISIBILITY}},
    "Privacy": {"type": "object", "required": ["trim_start_m", "trim_end_m", "version",
                                               "zones", "rebuilding", "default_visibility"],
                "properties": {
        **_TRIMS, "default_visibility": _VISIBILITY,
        "version": {"type": "integer", "description": "Bumped by every change"},
        "zones": {"type": "array", "items": {"$ref": "#/components/schemas/PrivacyZone"}},
        "rebuilding": {"type": "integer", "description": "Shared activities whose public "
                       "copy is still being rebuilt (their links answer 503 meanwhile)"}}},
    "PrivacyEffectAsk": {"oneOf": [
        {"type": "object", "additionalProperties": False, "required": ["zone"],
         "properties": {"zone": {"$ref": "#/components/schemas/PrivacyZoneNew"}}},
        {"$ref": "#/components/schemas/PrivacyTrims"}]},
    "PrivacyEffect": {"type": "object", "required": ["activities", "points", "shared"],
                      "properties": {"activities": {"type": "integer"},
                                     "points": {"type": "integer"},
                                     "shared": {"type": "integer"}}},
    "SharedActivity": {"type": "object", "required": ["share_id", "visibility", "name"],
                       "properties": {"share_id": {"type": "string"},
                                      "visibility": {"enum": ["unlisted", "public"]},
                                      "name": {"type": "string"},
                                      "bbox": {"type": ["object", "null"]}}},
}

_SHARE_ID = [{"name": "share_id", "in": "path", "required": True,
              "schema": {"type": "string", "maxLength": 64}}]
_UPDATING = {"description": "BeingUpdated: the owner's privacy changed or it was just "
             "shared; try again after Retry-After", **_json("Error")}


def _shared(operation: str, summary: str, content: dict) -> dict:
    return {"parameters": _SHARE_ID, "get": {
        "operationId": operation, "summary": summary, "security": [],
        "responses": {"200": {"description": "OK", "content": content},
                      **_errors(404), "503": _UPDATING}}}


_ANY_JSON = {"application/json": {"schema": {"type": "object"}}}

PATHS = {
    "/api/v1/privacy-zones": {
        "get": {"operationId": "listPrivacyZones", "summary": "Your privacy zones",
                "responses": {"200": {"description": "OK", **_json("PrivacyZoneList")},
                              **_errors(401, 503)}},
        "post": {"operationId": "createPrivacyZone",
                 "summary": "Hide a circle from everything you share (rebuilt at once)",
                 "requestBody": {"required": True, **_json("PrivacyZoneNew")},
                 "responses": {"201": {"description": "Saved", **_json("PrivacyZone")},
                               **_errors(400, 401, 403, 503)}}},
    "/api/v1/privacy-zones/{zone_id}": {
        "parameters": [{"name": "zone_id", "in": "path", "required": True,
                        "schema": {"type": "integer", "minimum": 1,
                                   "maximum": 999_999_999_999_999_999}}],
        "delete": {"operationId": "deletePrivacyZone", "summary": "Delete a privacy zone",
                   "responses": {"204": {"description": "Deleted"},
                                 **_errors(401, 403, 404, 503)}}},
    "/api/v1/privacy": {
        "get": {"operationId": "getPrivacy", "summary": "Your zones, trims and rebuild state",
                "responses": {"200": {"description": "OK", **_json("Privacy")},
                              **_errors(401, 503)}},
        "patch": {"operationId": "setPrivacyTrims",
                  "summary": "Trims (the first and last metres of every shared activity "
                  "hidden) and the default visibility of new uploads",
                  "requestBody": {"required": True, **_json("PrivacySettings")},
                  "responses": {"200": {"description": "Saved", **_json("Privacy")},
                                **_errors(400, 401, 403, 503)}}},
    "/api/v1/privacy/effect": {
        "post": {"operationId": "privacyEffect",
                 "summary": "What a zone or trims would hide (nothing saved)",
                 "requestBody": {"required": True, **_json("PrivacyEffectAsk")},
                 "responses": {"200": {"description": "OK", **_json("PrivacyEffect")},
                               **_errors(400, 401, 403, 503)}}},
    "/api/v1/shared/{share_id}": _shared(
        "getShared", "A shared activity, without its owner's own fields",
        _json("SharedActivity")["content"]),
    "/api/v1/shared/{share_id}/route": _shared("getSharedRoute", "Its route, zones cut out",
                                               _ANY_JSON),
    "/api/v1/shared/{share_id}/playback": _shared("getSharedPlayback",
                                                  "Its playback, zones cut out", _ANY_JSON),
    "/api/v1/shared/{share_id}/charts": _shared("getSharedCharts", "Its charts", _ANY_JSON),
    "/api/v1/shared/{share_id}/preview.svg": _shared(
        "getSharedPreview", "Its preview", {"image/svg+xml": {"schema": {"type": "string"}}}),
    "/api/v1/shared/{share_id}/export": _shared(
        "getSharedExport", "Its track as GPX, zones cut out",
        {"application/gpx+xml": {"schema": {"type": "string", "format": "binary"}}}),
}
