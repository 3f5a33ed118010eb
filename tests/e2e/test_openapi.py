"""The OpenAPI document and the code agree: every v1 URL is documented, every documented
path exists, and real responses match the documented schemas."""

import re

import jsonschema
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import get_resolver
from freezegun import freeze_time
from referencing import Registry, Resource

from reconciler import sweep
from settings import openapi
from tests import factories
from tests.conftest import NOW

DOCUMENT = openapi.document()


def _url_patterns(resolver=None, prefix=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if hasattr(pattern, "url_patterns"):
            yield from _url_patterns(pattern, route)
        else:
            yield route


def _as_openapi(route: str) -> str:
    return "/" + re.sub(r"<\w+:(\w+)>", r"{\1}", route)


def test_every_v1_url_is_documented_and_every_documented_path_exists():
    routes = {_as_openapi(r) for r in _url_patterns() if r.startswith("api/v1/")}
    routes.discard("/api/v1/openapi.json")
    assert routes == set(DOCUMENT["paths"])


def test_document_is_valid_openapi_and_is_served(db):
    from openapi_spec_validator import validate

    validate(DOCUMENT)
    assert Client().get("/api/v1/openapi.json").json() == DOCUMENT


def _check(response, path: str, method: str = "get") -> None:
    """Validate a response against the document's schema for its status."""
    operation = DOCUMENT["paths"][path][method]
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, f"{method.upper()} {path} answered {response.status_code}"
    content_type = response["Content-Type"].split(";")[0]
    schema = documented["content"][content_type]["schema"]
    if content_type != "application/json":
        return
    registry = Registry().with_resource("cairn", Resource.from_contents(
        {**DOCUMENT, "$schema": "https://json-schema.org/draft/2020-12/schema"}))
    validator = jsonschema.Draft202012Validator(
        {"$ref": "cairn#" + schema["$ref"][1:]} if "$ref" in schema else schema,
        registry=registry)
    validator.validate(response.json())


@pytest.mark.django_db
def test_real_responses_match_the_document(api, other_user):
    with freeze_time(NOW):
        upload = api.post("/api/v1/uploads", {"file": SimpleUploadedFile(
            "a.gpx", factories.gpx(points=200))})
        _check(upload, "/api/v1/uploads", "post")
        _check(api.post("/api/v1/uploads", {"file": SimpleUploadedFile("b", b"junk")}),
               "/api/v1/uploads", "post")
        archive = api.post("/api/v1/uploads", {"file": SimpleUploadedFile(
            "x.zip", factories.archive([("a.gpx", factories.gpx()), ("n.txt", b"note")]))})
        _check(archive, "/api/v1/uploads", "post")
        session = api.post("/api/v1/upload-sessions", {"filename": "c.gpx", "size": 10},
                           content_type="application/json")
        _check(session, "/api/v1/upload-sessions", "post")
        _check(api.get(f"/api/v1/uploads/{session.json()['upload_id']}"),
               "/api/v1/uploads/{upload_id}")  # uploading
        sweep.drain()
    gear = api.post("/api/v1/gear", {"name": "Shoes", "kind": "shoes"},
                    content_type="application/json")
    _check(gear, "/api/v1/gear", "post")
    segment = api.post("/api/v1/segments", {"name": "Hill", "activity_id": upload.json()[
        "activity_id"], "start_index": 10, "end_index": 100}, content_type="application/json")
    _check(segment, "/api/v1/segments", "post")
    _check(api.post("/api/v1/segments", {"name": "Hill", "points": [[1, 2]]},
                    content_type="application/json"), "/api/v1/segments", "post")
    with freeze_time(NOW):
        sweep.drain()  # the segment matched against the activity it came from
    export = api.post("/api/v1/exports", {"contents": "both"}, content_type="application/json")
    _check(export, "/api/v1/exports", "post")
    shared = api.patch(f"/api/v1/activities/{upload.json()['activity_id']}",
                       {"visibility": "unlisted"}, content_type="application/json")
    _check(shared, "/api/v1/activities/{activity_id}", "patch")
    _check(api.post("/api/v1/privacy-zones", {"lat": 1, "lon": 2, "radius_m": 200},
                    content_type="application/json"), "/api/v1/privacy-zones", "post")
    _check(api.patch("/api/v1/privacy", {"trim_start_m": 100},
                     content_type="application/json"), "/api/v1/privacy", "patch")
    _check(api.post("/api/v1/privacy/effect", {"trim_end_m": 100},
                    content_type="application/json"), "/api/v1/privacy/effect", "post")
    ids = {"upload_id": upload.json()["id"], "activity_id": upload.json()["activity_id"],
           "session_id": session.json()["id"], "gear_id": gear.json()["id"],
           "segment_id": segment.json()["id"],
           "webhook_id": 999999,  # real webhooks: tests/e2e/test_webhooks_api.py
           "export_id": export.json()["id"], "share_id": shared.json()["share_id"]}
    for path in DOCUMENT["paths"]:
        if "get" not in DOCUMENT["paths"][path]:
            continue
        url = path.format(**ids)
        _check(api.get(url), path)
        _check(Client().get(url), path)  # 401
        _check(api.get(path.format(upload_id=999999, activity_id=999999, gear_id=999999,
                                   webhook_id=999999, session_id=999999,
                                   segment_id=999999, export_id=999999,
                                   share_id="unknown")), path)  # 404
    _check(api.get(f"/api/v1/uploads/{archive.json()['id']}"), "/api/v1/uploads/{upload_id}")
    _check(api.get(f"/api/v1/uploads/{archive.json()['id']}/files"),
           "/api/v1/uploads/{upload_id}/files")
    _check(api.post(f"/api/v1/activities/{ids['activity_id']}/reprocess"),
           "/api/v1/activities/{activity_id}/reprocess", "post")
    _check(api.get("/api/v1/activities?limit=1"), "/api/v1/activities")
    _check(api.get("/api/v1/activities?status=nope"), "/api/v1/activities")
    detail = "/api/v1/activities/{activity_id}"
    url = detail.format(**ids)
    for body in ({"name": "Renamed", "sport": "running"}, {"sport": "nope"}):
        _check(api.patch(url, data=body, content_type="application/json"), detail, "patch")
    _check(api.patch(detail.format(activity_id=999999), data={"name": "x"},
                     content_type="application/json"), detail, "patch")
    assert api.delete(url).status_code == 204
    _check(api.delete(url), detail, "delete")  # 404: already deleted
