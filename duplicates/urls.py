"""URLs of the duplicates app: keep both, from the API and the activity page."""

from django.urls import path

from duplicates import views

urlpatterns = [
    path("api/v1/activities/<id:activity_id>/keep-both", views.keep_both_api,
         name="api-keep-both"),
    path("activities/<id:activity_id>/keep-both/", views.keep_both_page, name="keep-both"),
]
