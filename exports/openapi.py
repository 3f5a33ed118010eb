"""The bulk-export part of the OpenAPI document (settings/openapi.py merges it in)."""

from __future__ import annotations

from core.writers import MEDIA_TYPES

_TIME = {"type": ["string", "null"], "format": "date-time"}
_ID = {"type": "integer", "minimum": 1, "maximum": 999_999_999_999_999_999}


def _json(name: str) -> dict:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}


def _errors(*statuses: int) -> dict:
    return {str(s): {"description": "See the message", **_json("Error")} for s in statuses}


SCHEMAS = {
    "ExportNew": {"type": "object", "additionalProperties": False, "properties": {
        "contents": {"enum": ["originals", "files", "both"], "default": "both",
                     "description": "The files as uploaded, each activity written anew "
                     "from its stored track, or both."},
        "format": {"enum": list(MEDIA_TYPES), "default": "gpx",
                   "description": "The regenerated files' format."}}},
    "Export": {"type": "object", "required": ["id", "status", "contents", "format",
                                              "progress", "download_url", "size_bytes",
                                              "created_at", "finished_at", "expires_at",
                                              "error"],
               "properties": {
                   "id": {"type": "integer"},
                   "status": {"enum": ["pending", "building", "ready", "failed", "expired"]},
                   "contents": {"enum": ["originals", "files", "both"]},
                   "format": {"enum": list(MEDIA_TYPES)},
                   "progress": {"type": "object", "required": ["done", "total"],
                                "properties": {"done": {"type": "integer"},
                                               "total": {"type": "integer"}}},
                   "download_url": {"type": ["string", "null"],
                                    "description": "Once ready: the zip."},
                   "size_bytes": {"type": ["integer", "null"]},
                   "created_at": {"type": "string", "format": "date-time"},
                   "finished_at": _TIME,
                   "expires_at": {**_TIME, "description": "When the zip is deleted "
                                  "(CAIRN_EXPORT_KEEP_DAYS after it was ready)."},
                   "error": {"type": ["object", "null"], "properties": {
                       "code": {"type": "string"}, "message": {"type": "string"}}}}},
    "ExportList": {"type": "object", "required": ["exports"], "properties": {
        "exports": {"type": "array", "items": {"$ref": "#/components/schemas/Export"}}}},
}

_EXPORT_ID = [{"name": "export_id", "in": "path", "required": True, "schema": _ID}]

PATHS = {
    "/api/v1/exports": {
        "get": {"operationId": "listBulkExports", "summary": "The owner's bulk exports, newest "
                "first", "responses": {"200": {"description": "OK", **_json("ExportList")},
                                       **_errors(401, 503)}},
        "post": {"operationId": "createBulkExport",
                 "summary": "Ask for a zip of every activity; the sweep builds it",
                 "requestBody": {"required": False, **_json("ExportNew")},
                 "responses": {"202": {"description": "Accepted: pending",
                                       **_json("Export")},
                               **_errors(400, 401, 403, 503),
                               "409": {"description": "ExportInProgress (error.export_id "
                                       "names the export being built) or TooManyExports",
                                       **_json("Error")}}}},
    "/api/v1/exports/{export_id}": {
        "parameters": _EXPORT_ID,
        "get": {"operationId": "getBulkExport", "summary": "An export: status and progress",
                "responses": {"200": {"description": "OK", **_json("Export")},
                              **_errors(401, 404, 503)}},
        "delete": {"operationId": "deleteBulkExport",
                   "summary": "Delete it (its zip is deleted, a build stops)",
                   "responses": {"204": {"description": "Deleted"},
                                 **_errors(401, 403, 404, 503)}}},
    "/api/v1/exports/{export_id}/download": {
        "parameters": _EXPORT_ID,
        "get": {"operationId": "downloadBulkExport", "summary": "The zip, once ready",
                "responses": {"200": {"description": "The zip (an attachment)",
                                      "content": {"application/zip": {"schema": {
                                          "type": "string", "format": "binary"}}}},
                              **_errors(401, 404, 503),
                              "409": {"description": "NotReady: not built yet",
                                      **_json("Error")},
                              "410": {"description": "ExportExpired or ExportMissing",
                                      **_json("Error")}}}},
}
