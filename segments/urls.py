"""URLs of the segments app: the API and the pages."""

from django.urls import path

from segments import pages, views

urlpatterns = [
    path("api/v1/segments", views.segments_api, name="api-segments"),
    path("api/v1/segments/<id:segment_id>", views.segment_api, name="api-segment"),
    path("api/v1/segments/<id:segment_id>/efforts", views.segment_efforts_api,
         name="api-segment-efforts"),
    path("api/v1/activities/<id:activity_id>/efforts", views.activity_efforts_api,
         name="api-activity-efforts"),
    path("segments/", pages.segments_page, name="segments-page"),
    path("segments/<id:segment_id>/", pages.segment_page, name="segment-page"),
    path("segments/<id:segment_id>/rename/", pages.rename_page, name="segment-rename"),
    path("segments/<id:segment_id>/delete/", pages.delete_page, name="segment-delete"),
    path("activities/<id:activity_id>/segment/", pages.from_activity_page,
         name="segment-from-activity"),
]
