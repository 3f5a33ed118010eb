"""URLs of the records app: the API and the pages."""

from django.urls import path

from records import views

urlpatterns = [
    path("api/v1/records", views.records_api, name="api-records"),
    path("api/v1/totals", views.totals_api, name="api-totals"),
    path("api/v1/heatmap.png", views.heatmap_api, name="api-heatmap"),
    path("records/", views.records_page, name="records-page"),
    path("totals/", views.totals_page, name="totals-page"),
    path("heatmap/", views.heatmap_page, name="heatmap-page"),
    path("api/v1/records/timeline", views.timeline_api, name="api-records-timeline"),
    path("records/timeline/", views.timeline_page, name="records-timeline"),
]
