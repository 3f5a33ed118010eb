"""The duplicates endpoints' part of the OpenAPI document (settings.openapi adds it)."""

from __future__ import annotations

_ERROR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}

_ID = [{"name": "activity_id", "in": "path", "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 999_999_999_999_999_999}}]

_COMMON = {
    "401": {"description": "No or bad token", **_ERROR},
    "403": {"description": "CSRF token missing (session)", **_ERROR},
    "404": {"description": "Not found, or not yours", **_ERROR},
    "503": {"description": "Database unavailable (see Retry-After)", **_ERROR},
}


def paths(ref) -> dict:
    activity = {"$ref": "#/components/schemas/Activity"}
    merged = {"content": {"application/json": {"schema": {
        "type": "object", "required": ["primary", "merged", "streams_taken"],
        "properties": {
            "primary": activity, "merged": activity,
            "streams_taken": {"type": "array", "items": {
                "type": "string", "enum": ["hr", "cadence", "power"]},
                "description": "What the primary took from the one merged into it (it "
                "had no value of them); its outputs are derived again."}}}}}}
    return {
        "/api/v1/activities/{activity_id}/keep-both": {
            "parameters": _ID,
            "post": {
                "operationId": "keepBoth",
                "summary": "Not the same outing as its duplicate_of: unpair them for good",
                "responses": {
                    "200": {"description": "Unpaired", **ref("Activity")}, **_COMMON,
                    "409": {"description": "Not marked as a probable duplicate", **_ERROR},
                }}},
        "/api/v1/activities/{activity_id}/merge": {
            "parameters": _ID,
            "post": {
                "operationId": "merge",
                "summary": "The same outing as its duplicate_of: keep one, merge the other "
                           "into it",
                "requestBody": {"required": False, "content": {"application/json": {
                    "schema": {"type": "object", "additionalProperties": False,
                               "properties": {"primary": {
                                   "type": "integer", "description": "The one kept: this "
                                   "activity or its duplicate_of (default: the one with "
                                   "more data, its duplicate_of)."}}}}}},
                "responses": {
                    "200": {"description": "Merged", **merged}, **_COMMON,
                    "400": {"description": "A body other than {} or {\"primary\": id of "
                                           "one of the two}", **_ERROR},
                    "409": {"description": "Not marked as a probable duplicate (or merged "
                                           "already), or a track is being processed",
                            **_ERROR},
                }}},
        "/api/v1/activities/{activity_id}/unmerge": {
            "parameters": _ID,
            "post": {
                "operationId": "unmerge",
                "summary": "Count a merged activity again and give back what its primary "
                           "took",
                "responses": {
                    "200": {"description": "Unmerged", **ref("Activity")}, **_COMMON,
                    "409": {"description": "Not merged into another", **_ERROR},
                }}},
    }
