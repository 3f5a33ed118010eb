"""Root URLs: the activities app, the metrics endpoint and the admin (staff only)."""

from django.contrib import admin
from django.urls import include, path

from reconciler.views import metrics

urlpatterns = [
    path("admin/", admin.site.urls),
    path("metrics", metrics, name="metrics"),
    path("", include("activities.urls")),
]

handler400 = "activities.views.errors.bad_request"
handler404 = "activities.views.errors.not_found"
handler500 = "activities.views.errors.server_error"
