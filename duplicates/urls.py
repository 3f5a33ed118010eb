"""URLs of the duplicates app: keep both, merge and unmerge, from the API and the activity
page."""

from django.urls import path

from duplicates import views

urlpatterns = [
    path("api/v1/activities/<id:activity_id>/keep-both", views.keep_both_api,
         name="api-keep-both"),
    path("activities/<id:activity_id>/keep-both/", views.keep_both_page, name="keep-both"),
    path("api/v1/activities/<id:activity_id>/merge", views.merge_api, name="api-merge"),
    path("api/v1/activities/<id:activity_id>/unmerge", views.unmerge_api, name="api-unmerge"),
    path("activities/<id:activity_id>/merge/", views.merge_page, name="merge"),
    path("activities/<id:activity_id>/unmerge/", views.unmerge_page, name="unmerge"),
]
