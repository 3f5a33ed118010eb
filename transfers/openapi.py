"""The OpenAPI paths and schemas of upload sessions and tus uploads (merged into
activities/openapi.py's document)."""

from __future__ import annotations

_ID = {"type": "integer", "minimum": 1, "maximum": 999_999_999_999_999_999}
_TIME = {"type": "string", "format": "date-time"}
_WORDS = {400: "Bad request", 401: "No or bad token", 403: "CSRF token missing (session)",
          404: "Not found, or not yours",
          409: "Offset, store or session kind mismatch (another PATCH stored bytes at this "
               "offset first, or the session is of the other kind)",
          410: "Session expired or finished", 412: "Tus-Resumable is not 1.0.0",
          413: "Larger than declared or than the limits", 415: "Wrong content type",
          429: "Rate limited (see Retry-After), or too many open sessions or declared "
               "bytes (TooManySessions)", 503: "Store or database unavailable"}

SESSION = {
    "type": "object",
    "required": ["id", "upload_id", "via", "status", "size", "expires_at", "error",
                 "error_code", "result_upload_id"],
    "properties": {
        "id": {"type": "integer"}, "upload_id": {"type": "integer"},
        "via": {"enum": ["presigned", "tus"]},
        "status": {"enum": ["uploading", "ingested", "failed"]},
        "size": {"type": "integer"}, "sha256": {"type": ["string", "null"]},
        "expires_at": _TIME, "error": {"type": ["string", "null"]},
        "error_code": {"type": ["string", "null"]},
        "result_upload_id": {"type": ["integer", "null"]},
        "method": {"enum": ["PUT"]},
        "url": {"type": "string", "description": "Where to send the bytes: a presigned URL "
                "of the object store (s3) or Cairn's own content URL (fs)."},
        "headers": {"type": "object", "additionalProperties": {"type": "string"},
                    "description": "Send these headers with the bytes."},
    },
}


def _errors(*statuses: int) -> dict:
    return {str(s): {"description": _WORDS[s], "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}} for s in statuses}


def _session(status: str, description: str) -> dict:
    return {status: {"description": description, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/UploadSession"}}}}}


def _tus_headers(*names: str) -> dict:
    headers = {"Tus-Resumable": {"schema": {"type": "string"}},
               "Cairn-Upload-Id": {"description": "The upload the file becomes: poll "
                                   "GET /api/v1/uploads/{id}.", "schema": {"type": "string"}},
               "Upload-Offset": {"schema": {"type": "string"}},
               "Upload-Length": {"schema": {"type": "string"}},
               "Upload-Expires": {"schema": {"type": "string"}},
               "Location": {"schema": {"type": "string"}}}
    return {name: headers[name] for name in names}


def _header(name: str, *, required: bool = True, integer: bool = False) -> dict:
    schema = {"type": "integer", "minimum": 0} if integer else {"type": "string"}
    return {"name": name, "in": "header", "required": required, "schema": schema}


_TUS_VERSION = {**_header("Tus-Resumable"), "schema": {"enum": ["1.0.0"]}}
_SESSION_ID = [{"name": "session_id", "in": "path", "required": True, "schema": _ID}]


def paths() -> dict:
    return {
        "/api/v1/upload-sessions": {"post": {
            "operationId": "openUploadSession",
            "summary": "Open a session to send a file straight to the store; the sweep "
                       "ingests it once it is there (no callback needed)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["size"], "properties": {
                    "filename": {"type": "string", "description": "A name ending in "
                                 ".zip declares an archive, which may be larger than an "
                                 "activity file"},
                    "type": {"type": "string", "description": "Optional media type; "
                             "application/zip declares an archive too"},
                    "size": {"type": "integer", "minimum": 1},
                    "sha256": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}}}}}},
            "responses": {**_session("201", "Opened: send the bytes with method, url and "
                                     "headers"),
                          **_errors(400, 401, 403, 413, 429, 503)}}},
        "/api/v1/upload-sessions/{session_id}": {
            "parameters": _SESSION_ID,
            "get": {"operationId": "getUploadSession", "summary": "A session's state",
                    "responses": {**_session("200", "OK"), **_errors(401, 404, 503)}}},
        "/api/v1/upload-sessions/{session_id}/content": {
            "parameters": _SESSION_ID,
            "put": {"operationId": "putUploadSessionContent",
                    "summary": "The bytes, when the store is local files (the session's "
                               "url says where to send them)",
                    "requestBody": {"required": True, "content": {
                        "application/octet-stream": {"schema": {"type": "string",
                                                                "format": "binary"}}}},
                    "responses": {"200": {"description": "Stored"},
                                  **_errors(400, 401, 403, 404, 409, 410, 413, 503)}}},
        "/api/v1/upload-sessions/{session_id}/complete": {
            "parameters": _SESSION_ID,
            "post": {"operationId": "completeUploadSession",
                     "summary": "Optional nudge: look for the bytes now",
                     "responses": {**_session("202", "The sweep looks now"),
                                   **_errors(401, 403, 404, 503)}}},
        "/api/v1/tus": {
            "options": {"operationId": "tusOptions", "security": [],
                        "summary": "tus discovery: version, extensions, largest size",
                        "responses": {"204": {"description": "tus 1.0.0: creation, "
                                              "termination, expiration"}}},
            "post": {"operationId": "tusCreate",
                     "summary": "tus creation: Upload-Length, Upload-Metadata (filename, "
                                "optional filetype and sha256)",
                     "parameters": [_TUS_VERSION, _header("Upload-Length", integer=True),
                                    _header("Upload-Metadata", required=False)],
                     "responses": {"201": {"description": "Created: PATCH to Location",
                                           "headers": _tus_headers(
                                               "Location", "Cairn-Upload-Id",
                                               "Upload-Expires")},
                                   **_errors(400, 401, 403, 412, 413, 429, 503)}}},
        "/api/v1/tus/{session_id}": {
            "parameters": _SESSION_ID,
            "head": {"operationId": "tusHead", "summary": "The offset the store has",
                     "responses": {"200": {"description": "Upload-Offset",
                                           "headers": _tus_headers(
                                               "Upload-Offset", "Upload-Length",
                                               "Cairn-Upload-Id")},
                                   "404": {"description": _WORDS[404]},
                                   "409": {"description": _WORDS[409]},
                                   "410": {"description": _WORDS[410]},
                                   "401": {"description": _WORDS[401]}}},
            "patch": {"operationId": "tusPatch",
                      "summary": "Bytes from Upload-Offset, stored before the answer",
                      # No requestBody object: generic tools cannot serialise tus's media
                      # type, so the body is described in words.
                      "description": "The body is the file's bytes from Upload-Offset on, "
                                     "sent as Content-Type application/offset+octet-stream "
                                     "(anything else is answered 415).",
                      "parameters": [_TUS_VERSION, _header("Upload-Offset", integer=True)],
                      "responses": {"204": {"description": "Stored", "headers": _tus_headers(
                                        "Upload-Offset", "Cairn-Upload-Id")},
                                    **_errors(400, 401, 403, 404, 409, 410, 412, 413, 415,
                                              503)}},
            "delete": {"operationId": "tusTerminate",
                       "summary": "tus termination: the sweep removes the chunks",
                       "parameters": [_TUS_VERSION],
                       "responses": {"204": {"description": "Terminated"},
                                     **_errors(401, 403, 404, 409, 412, 503)}}},
    }
