"""URLs of the segments app: the API."""

from django.urls import path

from segments import views

urlpatterns = [
    path("api/v1/segments", views.segments_api, name="api-segments"),
    path("api/v1/segments/<id:segment_id>", views.segment_api, name="api-segment"),
    path("api/v1/segments/<id:segment_id>/efforts", views.segment_efforts_api,
         name="api-segment-efforts"),
    path("api/v1/activities/<id:activity_id>/efforts", views.activity_efforts_api,
         name="api-activity-efforts"),
]
