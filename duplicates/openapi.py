"""The duplicates endpoints' part of the OpenAPI document (settings.openapi adds it)."""

from __future__ import annotations

_ERROR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def paths(ref) -> dict:
    return {"/api/v1/activities/{activity_id}/keep-both": {
        "parameters": [{"name": "activity_id", "in": "path", "required": True,
                        "schema": {"type": "integer", "minimum": 1,
                                   "maximum": 999_999_999_999_999_999}}],
        "post": {
            "operationId": "keepBoth",
            "summary": "Not the same outing as its duplicate_of: unpair them for good",
            "responses": {
                "200": {"description": "Unpaired", **ref("Activity")},
                "401": {"description": "No or bad token", **_ERROR},
                "403": {"description": "CSRF token missing (session)", **_ERROR},
                "404": {"description": "Not found, or not yours", **_ERROR},
                "409": {"description": "Not marked as a probable duplicate", **_ERROR},
                "503": {"description": "Database unavailable (see Retry-After)", **_ERROR},
            }}}}
