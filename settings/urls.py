"""Root URLs: the activities app, the operator pages, /metrics and the admin (staff only)."""

from django.contrib import admin
from django.urls import include, path, register_converter

from activities.converters import IdConverter
from activities.views import strava
from reconciler.operations import views as reconciler_views
from reconciler.operations.scrape import metrics
from settings import openapi
from work import admin as work_admin

# Before any pattern below (or in activities.urls) uses it.
register_converter(IdConverter, "id")

# Every registered kind's state filter and replay action (the kinds registered in their
# apps' ready(), after the admin discovered its modules).
work_admin.equip(admin.site)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("metrics", metrics, name="metrics"),
    path("staff/drift/", reconciler_views.drift_page, name="drift-page"),
    path("staff/runbooks/<str:name>", reconciler_views.runbook_page, name="runbook"),
    path("staff/rollouts/", include("reconciler.rollouts.views")),
    path("activities/<id:activity_id>/timeline/", reconciler_views.timeline_page,
         name="timeline"),
    path("api/v1/activities/<id:activity_id>/timeline", reconciler_views.timeline_api,
         name="api-timeline"),
    path("api/v1/activities/<id:activity_id>/reprocess", reconciler_views.reprocess_api,
         name="api-reprocess"),
    path("activities/<id:activity_id>/reprocess/", reconciler_views.reprocess_page,
         name="reprocess"),
    path("api/v1/openapi.json", openapi.served, name="openapi"),
    # Strava-compatible uploads, for clients written for Strava's API.
    path("api/v3/uploads", strava.uploads, name="strava-uploads"),
    path("api/v3/uploads/<id:upload_id>", strava.upload_detail, name="strava-upload"),
    path("api/v3/activities/<id:activity_id>", strava.activity_detail,
         name="strava-activity"),
    path("api/v3/athlete/activities", strava.athlete_activities,
         name="strava-athlete-activities"),
    path("", include("webhooks.urls")),
    path("", include("transfers.urls")),
    path("", include("records.urls")),
    path("", include("training.urls")),
    path("", include("duplicates.urls")),
    path("", include("segments.urls")),
    path("", include("exports.urls")),
    path("", include("sharing.urls")),
    path("", include("accounts.urls")),
    path("", include("activities.urls")),
]

handler400 = "activities.views.errors.bad_request"
handler404 = "activities.views.errors.not_found"
handler500 = "activities.views.errors.server_error"
