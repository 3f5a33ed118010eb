"""The whole OpenAPI document (served at /api/v1/openapi.json): the activities' part, with
the parts of the apps above it (upload sessions, webhooks, records, training,
duplicates, segments, bulk exports, sharing)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from activities import openapi as activities_openapi
from duplicates import openapi as duplicates_openapi
from exports import openapi as exports_openapi
from records import openapi as records_openapi
from segments import openapi as segments_openapi
from sharing import openapi as sharing_openapi
from training import openapi as training_openapi
from transfers import openapi as transfers_openapi
from webhooks import openapi as webhooks_openapi


def document() -> dict:
    whole = activities_openapi.document()
    whole["components"]["schemas"] |= {"UploadSession": transfers_openapi.SESSION,
                                       **webhooks_openapi.SCHEMAS, **records_openapi.SCHEMAS,
                                       **training_openapi.SCHEMAS,
                                       **segments_openapi.SCHEMAS, **exports_openapi.SCHEMAS,
                                       **sharing_openapi.SCHEMAS}
    whole["paths"] |= {**webhooks_openapi.PATHS, **exports_openapi.PATHS,
                       **sharing_openapi.PATHS,
                       **transfers_openapi.paths(),
                       **records_openapi.paths(activities_openapi.get, activities_openapi.ref),
                       **training_openapi.paths(activities_openapi.get, activities_openapi.ref),
                       **duplicates_openapi.paths(activities_openapi.ref),
                       **segments_openapi.paths(activities_openapi.get, activities_openapi.ref)}
    return whole


def served(request: HttpRequest) -> JsonResponse:
    """GET /api/v1/openapi.json (public: the API's shape is no secret)."""
    return JsonResponse(document())
