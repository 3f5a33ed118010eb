"""The OpenAPI 3.1 document of the v1 API, kept beside the code that it describes.

tests/e2e/test_openapi.py holds the two together: every v1 URL is documented, every
documented path exists, responses seen in tests match their schemas, and a schemathesis
run against a live server finds no 500 and no response that breaks the document.
"""

from __future__ import annotations

from activities import edits, listing
from activities.serialize import SUMMARY_FIELDS
from core.writers import MEDIA_TYPES

_NULLABLE_NUMBER = {"type": ["number", "null"]}
_TIME = {"type": "string", "format": "date-time"}
_ID = {"type": "integer", "minimum": 1, "maximum": 999_999_999_999_999_999}

_ERROR = {
    "type": "object", "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
    }},
}

_UPLOAD = {
    "type": "object",
    "required": ["id", "kind", "activity_id", "status", "error", "error_code", "progress",
                 "duplicate", "created_at", "updated_at"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"enum": ["file", "archive", "session"]},
        "activity_id": {"type": ["integer", "null"]},
        "status": {"enum": ["uploading", "queued", "processing", "ready", "failed"]},
        "session_upload_id": {"type": "integer", "description": "The session's upload "
                              "(upload-sessions, tus) that these bytes came in as."},
        "error": {"type": ["string", "null"]},
        "error_code": {"type": ["string", "null"]},
        "problem": {"type": ["string", "null"],
                    "description": "What went wrong in a sentence for people (by "
                                   "`error_code`; `error` keeps the technical message)."},
        "progress": {
            "description": "A file: each deriver and whether its output is current. An "
                           "archive: how many files it holds (files; a nested archive's "
                           "count once it is opened), how many were seen, and how many "
                           "were imported, duplicate, failed, skipped, and missing (listed "
                           "by the export's activities.csv or summarizedActivities.json, "
                           "not in it).",
            "type": "object",
            "additionalProperties": {"type": ["boolean", "integer", "null"]},
        },
        "duplicate": {"type": "boolean"},
        "probable_duplicate_of": {
            "type": ["integer", "null"],
            "description": "Once processed and checked: the activity this upload's is "
                           "probably the same outing as (the one kept), else null."},
        "created_at": _TIME,
        "updated_at": _TIME,
    },
}

_SUMMARY_TYPES = {
    "sport": {"type": ["string", "null"]}, "sub_sport": {"type": ["string", "null"]},
    "start_time": {"type": ["string", "null"], "format": "date-time"},
    "distance_source": {"enum": ["device", "records", "gps", None]},
    "point_count": {"type": ["integer", "null"]}, "sessions": {"type": ["integer", "null"]},
    "parts": {"type": ["integer", "null"], "minimum": 1,
              "description": "Recordings more than 3 hours apart; null without timestamps."},
    "bbox": {"type": ["object", "null"], "properties": {
        k: {"type": "number"} for k in ("min_lat", "min_lon", "max_lat", "max_lon")}},
    "title": {"type": ["string", "null"],
              "description": "Derived: the file's own name, else the time of day at the "
                             "start's place and the sport (\"Morning Run\"); `name` shows it "
                             "when no one gave the activity a name. Null until summarised."},
    "timezone": {"type": ["string", "null"],
                 "description": "The IANA time zone where the activity began "
                                "(\"America/New_York\"), from its first position: its local "
                                "time. Null without a position."},
}

_ACTIVITY = {
    "type": "object",
    "required": ["id", "upload_id", "name", "description", "status", "error", "versions",
                 "created_at", *SUMMARY_FIELDS],
    "properties": {
        "id": {"type": "integer"}, "upload_id": {"type": "integer"},
        "name": {"type": "string", "description": "The name given by the uploader or user, "
                 "else `title`."},
        "description": {"type": "string"},
        "external_id": {"type": ["string", "null"]},
        "format": {"enum": ["fit", "gpx", "tcx"]},
        "status": {"enum": ["queued", "processing", "ready", "failed", "dead"]},
        "error": {"type": ["string", "null"]}, "error_code": {"type": ["string", "null"]},
        **{f: _SUMMARY_TYPES.get(f, _NULLABLE_NUMBER) for f in SUMMARY_FIELDS},
        "versions": {"type": "object", "additionalProperties": {"type": "integer"}},
        "progress": {"type": "object", "additionalProperties": {"type": "boolean"}},
        "created_at": _TIME, "processed_at": {"type": ["string", "null"],
                                              "format": "date-time"},
        "gear_id": {"type": ["integer", "null"], "description": "The owner's gear it was "
                    "done with (/api/v1/gear)."},
        "revision": {"type": "integer", "minimum": 0, "description": "0: the original as "
                     "decoded; more: edited (crop, remove, split, restore)."},
        "split_from": {"type": ["integer", "null"],
                       "description": "The activity this one was split from."},
        "duplicate_of": {"type": ["integer", "null"],
                         "description": "Probably the same outing as this activity (the "
                         "one kept), found by the duplicates check."},
        "merged_into": {"type": ["integer", "null"],
                        "description": "Merged by its owner into this activity: left out "
                        "of lists, records, totals, the heatmap, gear, training and "
                        "segments until unmerged."},
        "visibility": {"enum": ["private", "unlisted", "public"]},
        "share_id": {"type": "string", "description": "Its link's name while not private "
                     "(/s/<share_id>/); absent while private."},
    },
}

_ACTIVITY_LIST = {"type": "object", "required": ["activities", "next"], "properties": {
    "activities": {"type": "array", "items": {"$ref": "#/components/schemas/Activity"}},
    "next": {"type": ["string", "null"], "description": "The next page's URL; null on the "
                                                      "last page."}}}

_EDIT = {"type": "object", "minProperties": 1, "additionalProperties": False, "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": edits.NAME_MAX},
    "sport": {"enum": ["", *sorted(edits.SPORTS)],
              "description": "Shown instead of the file's sport; \"\" shows the file's again."},
    "description": {"type": "string", "maxLength": edits.DESCRIPTION_MAX},
    "gear_id": {"type": ["integer", "null"], "description": "One of your gear, or null "
                "for none."},
    "visibility": {"enum": ["private", "unlisted", "public"],
                   "description": "Who else may read it: nobody, whoever has its link "
                   "(share_id), or also everyone on your public profile."}}}

#: The query of the activity list (activities/listing.py).
_LIST_PARAMETERS = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                 "maximum": 200, "default": 30}},
    {"name": "cursor", "in": "query", "schema": {"type": "string"},
     "description": "Opaque: from the previous page's `next`."},
    {"name": "sport", "in": "query", "schema": {"type": "string", "maxLength": 64}},
    {"name": "status", "in": "query", "schema": {"enum": list(listing.STATUSES)}},
    {"name": "after", "in": "query", "schema": _TIME,
     "description": "Started (or, undated, uploaded) at or after this time."},
    {"name": "before", "in": "query", "schema": _TIME,
     "description": "Started (or, undated, uploaded) before this time."},
]

#: The original as uploaded, by format; gzipped as uploaded.
_ORIGINAL = {"content": {t: {"schema": {"type": "string", "format": "binary"}} for t in (
    "application/vnd.ant.fit", "application/gpx+xml", "application/vnd.garmin.tcx+xml",
    "application/gzip")}}

_ROUTE = {"type": "object", "required": ["points", "polyline"], "properties": {
    "points": {"type": "array", "items": {"type": "array", "items": {"type": "number"},
                                          "minItems": 2, "maxItems": 2}},
    "polyline": {"type": "string"}}}

_FILES = {"type": "object", "required": ["files", "next_offset"], "properties": {
    "files": {"type": "array", "items": {
        "type": "object", "required": ["index", "name", "status", "activity_id"],
        "properties": {"index": {"type": "integer"}, "name": {"type": "string"},
                       "status": {"enum": ["imported", "duplicate", "failed", "skipped",
                                           "missing"]},
                       "activity_id": {"type": ["integer", "null"]},
                       "duplicate_of": {"type": ["integer", "null"]},
                       "error": {"type": ["string", "null"]},
                       "error_code": {"type": ["string", "null"]}}}},
    "next_offset": {"type": ["integer", "null"]}}}

_TIMELINE = {"type": "object", "required": ["activity_id", "status", "why", "outputs",
                                            "attempts"], "properties": {
    "activity_id": {"type": "integer"}, "status": {"type": "string"},
    "why": {"type": "string"}, "outputs": {"type": "array"}, "attempts": {"type": "array"},
    # What operators did to the rollouts of this activity's outputs since it was uploaded.
    "rollouts": {"type": "array", "items": {"type": "object", "properties": {
        "at": {"type": "string"}, "deriver": {"type": "string"}, "version": {"type": "integer"},
        "action": {"type": "string"}, "by": {"type": "string"}, "from": {"type": "string"},
        "to": {"type": "string"}, "detail": {"type": ["string", "null"]}}}}}}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict:
    words = {400: "Bad request", 401: "No or bad token", 403: "CSRF token missing (session)",
             404: "Not found, or not yours", 405: "Method not allowed", 413: "Too large",
             415: "Not FIT, GPX, TCX or a zip of them", 422: "Reused key or damaged archive",
             429: "Rate limited or too much work waiting (see Retry-After)",
             503: "Database unavailable (see Retry-After)"}
    return {str(s): {"description": words[s], **_json({"$ref": "#/components/schemas/Error"})}
            for s in statuses}


def get(operation_id: str, summary: str, ok: dict, *, ok_status: str = "200",
         extra: tuple = ()) -> dict:
    return {"get": {"operationId": operation_id, "summary": summary,
                    "responses": {ok_status: {"description": "OK", **ok},
                                  **_errors(401, 404, 503, *extra)}}}


def _id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": _ID}


def ref(name: str) -> dict:
    return _json({"$ref": f"#/components/schemas/{name}"})


_OBJECT = {"content": {"application/json": {"schema": {"type": "object"}}}}
_SVG = {"content": {"image/svg+xml": {"schema": {"type": "string"}}}}

#: (path suffix, operationId, summary, 200 body) of the reads under an activity.
_ACTIVITY_READS = (
    ("/route", "getRoute", "The simplified route", _json({"$ref": "#/components/schemas/Route"})),
    ("/playback", "getPlayback", "Time-resampled series for replay", _OBJECT),
    ("/charts", "getCharts",
     "Elevation, speed or pace, heart-rate, cadence and power profiles", _OBJECT),
    ("/preview.svg", "getPreview", "An SVG thumbnail of the route", _SVG),
    ("/timeline", "getTimeline", "Attempts and why the activity is where it is",
     _json({"$ref": "#/components/schemas/Timeline"})),
    ("/original", "getOriginal", "The file exactly as uploaded (a gzipped one stays "
     "gzipped), as an attachment", _ORIGINAL),
)


def _links() -> dict:
    """What a client can do with a new upload's ids (and what schemathesis follows)."""
    upload = {"upload_id": "$response.body#/id"}
    activity = {"activity_id": "$response.body#/activity_id"}
    return {
        "GetUpload": {"operationId": "getUpload", "parameters": upload},
        "GetFiles": {"operationId": "getUploadFiles", "parameters": upload},
        **{f"Get{name.title()}": {"operationId": f"get{name.title()}", "parameters": activity}
           for name in ("activity", "route", "playback", "charts", "preview", "timeline",
                        "original", "export")},
        "Reprocess": {"operationId": "reprocess", "parameters": activity},
    }


def _seconds_body(*names: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": list(names), "additionalProperties": False,
        "properties": {n: {"type": "number", "minimum": 0} for n in names}}}}}


def _revision_paths(activity: list) -> dict:
    """Crop, remove, split, the revisions and a restore (seconds from the activity's start
    as it is now)."""
    revised = {"202": {"description": "Revised: its outputs are derived again",
                       **ref("Activity")},
               **_errors(400, 401, 403, 404, 503),
               "409": {"description": "Being processed: revise it once it is ready",
                       **_json({"$ref": "#/components/schemas/Error"})},
               "422": {"description": "Cannot apply (no times; fewer than two points left)",
                       **_json({"$ref": "#/components/schemas/Error"})}}
    paths = {}
    for suffix, operation_id, summary, names in (
            ("crop", "crop", "Keep [start_s, end_s] of the activity", ("start_s", "end_s")),
            ("remove", "removeStretch", "Leave out the stretch (from_s, to_s)",
             ("from_s", "to_s")),
            ("split", "split", "Split in two at at_s: a new activity gets the rest",
             ("at_s",))):
        responses = dict(revised)
        if suffix == "split":
            responses["202"] = {"description": "Split", **_json({
                "type": "object", "required": ["activity", "new_activity"], "properties": {
                    "activity": {"$ref": "#/components/schemas/Activity"},
                    "new_activity": {"$ref": "#/components/schemas/Activity"}}})}
        paths[f"/api/v1/activities/{{activity_id}}/{suffix}"] = {
            "parameters": activity, "post": {
                "operationId": operation_id, "summary": summary,
                "requestBody": _seconds_body(*names), "responses": responses}}
    paths["/api/v1/activities/{activity_id}/revisions"] = {
        "parameters": activity,
        **get("getRevisions", "Every revision, the original (0) first", _json({
            "type": "object", "required": ["current", "revisions"], "properties": {
                "current": {"type": "integer"}, "revisions": {"type": "array", "items": {
                    "type": "object", "required": ["number", "action", "current"],
                    "properties": {"number": {"type": "integer"},
                                   "action": {"enum": ["original", "crop", "remove",
                                                       "split", "restore"]},
                                   "detail": {"type": "object"},
                                   "edits": {"type": ["object", "null"]},
                                   "created_at": _TIME, "current": {"type": "boolean"}}}}}}))}
    paths["/api/v1/activities/{activity_id}/revisions/{number}/restore"] = {
        "parameters": [*activity, {"name": "number", "in": "path", "required": True,
                                   "schema": {"type": "integer", "minimum": 0}}],
        "post": {"operationId": "restoreRevision",
                 "summary": "A new revision with the edits of revision `number` (0: the "
                            "original)",
                 "responses": {"202": {"description": "Restored", **ref("Activity")},
                               **_errors(401, 403, 404, 503)}}}
    return paths


def document() -> dict:
    """The activities' part of the OpenAPI document; settings.openapi adds the other apps'
    parts to it (they are above this app)."""
    upload_form = {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary",
                     "description": "FIT, GPX or TCX (each may be gzipped), or a zip of them"},
            "name": {"type": "string", "description": "The name given by the uploader or user, "
                 "else `title`."},
        "external_id": {"type": "string"},
            "description": {"type": "string"}}}}}
    activity = [_id("activity_id")]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Cairn", "version": "1",
                 "description": "Upload GPX and FIT files and read what Cairn derives from "
                                "them. Times are ISO 8601 UTC, durations seconds, distances "
                                "metres, speeds m/s."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": _ERROR, "Upload": _UPLOAD, "Activity": _ACTIVITY,
                        "ActivityList": _ACTIVITY_LIST, "ActivityEdit": _EDIT,
                        "Route": _ROUTE, "Files": _FILES, "Timeline": _TIMELINE},
        },
        "paths": {
            "/api/v1/uploads": {"post": {
                "operationId": "upload",
                "summary": "Upload an activity file or a zip archive of them",
                "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                                "schema": {"type": "string", "maxLength": 255}}],
                "requestBody": {"required": True, "content": upload_form},
                "responses": {"202": {"description": "Stored and committed",
                                      **ref("Upload"), "links": _links()},
                              **_errors(400, 401, 403, 413, 415, 422, 429, 503)}}},
            "/api/v1/uploads/{upload_id}": {
                "parameters": [_id("upload_id")],
                **get("getUpload", "An upload's state", ref("Upload"))},
            "/api/v1/uploads/{upload_id}/files": {
                "parameters": [_id("upload_id"),
                               {"name": "offset", "in": "query", "schema": {
                                   "type": "integer", "minimum": 0, "maximum": 10**9}},
                               {"name": "limit", "in": "query", "schema": {
                                   "type": "integer", "minimum": 1, "maximum": 1000}}],
                **get("getUploadFiles", "What became of each file of an archive",
                       ref("Files"), extra=(400,))},
            "/api/v1/activities": {
                "parameters": _LIST_PARAMETERS,
                **get("listActivities", "The owner's activities, newest start first "
                       "(undated ones by upload time), a page at a time",
                       ref("ActivityList"), extra=(400,))},
            "/api/v1/activities/{activity_id}": {
                "parameters": activity,
                **get("getActivity", "An activity's summary", ref("Activity")),
                "patch": {"operationId": "editActivity",
                          "summary": "Rename, choose the sport, describe (kept by rebuilds)",
                          "requestBody": {"required": True, **ref("ActivityEdit")},
                          "responses": {"200": {"description": "Edited", **ref("Activity")},
                                        **_errors(400, 401, 403, 404, 503)}},
                "delete": {"operationId": "deleteActivity",
                           "summary": "Delete: gone at once, removed by the sweep",
                           "responses": {"204": {"description": "Deleted"},
                                         **_errors(401, 403, 404, 503)}}},
            **{f"/api/v1/activities/{{activity_id}}{suffix}": {
                "parameters": activity, **get(operation_id, summary, body)}
               for suffix, operation_id, summary, body in _ACTIVITY_READS},
            "/api/v1/activities/{activity_id}/export": {
                "parameters": activity,
                "get": {"operationId": "getExport",
                        "summary": "The activity written anew as GPX, TCX or FIT, with its "
                                   "name, sport and description, as an attachment",
                        "parameters": [{"name": "format", "in": "query",
                                        "schema": {"enum": list(MEDIA_TYPES),
                                                   "default": "gpx"}}],
                        "responses": {"200": {"description": "OK", "content": {
                            t: {"schema": {"type": "string", "format": "binary"}}
                            for t in MEDIA_TYPES.values()}},
                            **_errors(400, 401, 404, 503),
                            "422": {"description": "The format cannot hold this activity "
                                    "(GPX without positions; TCX or FIT without times)",
                                    **_json({"$ref": "#/components/schemas/Error"})}}}},
            **_revision_paths(activity),
            "/api/v1/activities/{activity_id}/reprocess": {
                "parameters": activity,
                "post": {"operationId": "reprocess",
                         "summary": "Try again: a forced re-sync of every output",
                         "responses": {"202": {"description": "Queued", **ref("Activity")},
                                       **_errors(401, 403, 404, 503)}}},
        },
    }
