"""URLs of bulk exports (included by settings/urls.py)."""

from django.urls import path

from exports import views

urlpatterns = [
    path("api/v1/exports", views.collection, name="api-exports"),
    path("api/v1/exports/<id:export_id>", views.detail, name="api-export"),
    path("api/v1/exports/<id:export_id>/download", views.download,
         name="api-export-download"),
]
