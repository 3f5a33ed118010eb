"""URLs of bulk exports (included by settings/urls.py)."""

from django.urls import path

from exports import pages, views

urlpatterns = [
    path("api/v1/exports", views.collection, name="api-exports"),
    path("api/v1/exports/<id:export_id>", views.detail, name="api-export"),
    path("api/v1/exports/<id:export_id>/download", views.download,
         name="api-export-download"),
]

urlpatterns += [
    path("settings/export/", pages.export_page, name="export-page"),
    path("settings/export/<id:export_id>/delete/", pages.delete_export, name="export-delete"),
]
