"""URLs of sharing (included by settings/urls.py): privacy settings (owner-only), shared
reads (anyone with the link) and the public pages."""

from django.urls import path

from sharing import pages, privacy_page, views

urlpatterns = [
    path("api/v1/privacy-zones", views.zones, name="api-privacy-zones"),
    path("api/v1/privacy-zones/<id:zone_id>", views.zone_detail, name="api-privacy-zone"),
    path("api/v1/privacy", views.privacy_settings, name="api-privacy"),
    path("api/v1/privacy/effect", views.privacy_effect, name="api-privacy-effect"),
    path("api/v1/shared/<str:share_id>", views.shared_detail, name="shared-detail"),
    path("api/v1/shared/<str:share_id>/route", views.shared_output, {"kind": "route"},
         name="shared-route"),
    path("api/v1/shared/<str:share_id>/playback", views.shared_output, {"kind": "playback"},
         name="shared-playback"),
    path("api/v1/shared/<str:share_id>/charts", views.shared_output, {"kind": "charts"},
         name="shared-charts"),
    path("api/v1/shared/<str:share_id>/preview.svg", views.shared_output,
         {"kind": "preview"}, name="shared-preview"),
    path("api/v1/shared/<str:share_id>/export", views.shared_export, name="shared-export"),
    path("s/<str:share_id>/", pages.shared_page, name="shared-page"),
    path("u/<str:username>/", pages.profile_page, name="public-profile"),
    path("u/<str:username>/heatmap.png", pages.heatmap_png, name="public-heatmap"),
    path("settings/privacy/", privacy_page.privacy_page, name="privacy-page"),
    path("settings/privacy/zones/<id:zone_id>/delete/", privacy_page.delete_zone_page,
         name="privacy-zone-delete"),
]
