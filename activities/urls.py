"""URLs of the activities app: the v1 API and the pages."""

from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from activities.views import account, api, edit, health, login, pages, revise, revising

urlpatterns = [
    path("api/v1/uploads", api.uploads, name="api-uploads"),
    path("api/v1/uploads/<id:upload_id>", api.upload_detail, name="api-upload"),
    path("api/v1/uploads/<id:upload_id>/files", api.upload_files, name="api-upload-files"),
    path("api/v1/activities", api.activity_list, name="api-activities"),
    path("api/v1/activities/<id:activity_id>", api.activity_detail, name="api-activity"),
    path("api/v1/activities/<id:activity_id>/original", api.activity_original,
         name="api-original"),
    path("api/v1/activities/<id:activity_id>/export", api.activity_export, name="api-export"),
    path("api/v1/activities/<id:activity_id>/crop", revising.crop, name="api-crop"),
    path("api/v1/activities/<id:activity_id>/remove", revising.remove, name="api-remove"),
    path("api/v1/activities/<id:activity_id>/split", revising.split, name="api-split"),
    path("api/v1/activities/<id:activity_id>/revisions", revising.revision_list,
         name="api-revisions"),
    path("api/v1/activities/<id:activity_id>/revisions/<int:number>/restore",
         revising.restore, name="api-restore"),
    path("api/v1/activities/<id:activity_id>/route", api.activity_output,
         {"kind": "route"}, name="api-route"),
    path("api/v1/activities/<id:activity_id>/playback", api.activity_output,
         {"kind": "playback"}, name="api-playback"),
    path("api/v1/activities/<id:activity_id>/charts", api.activity_output,
         {"kind": "charts"}, name="api-charts"),
    path("api/v1/activities/<id:activity_id>/preview.svg", api.activity_output,
         {"kind": "preview"}, name="api-preview"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("login/", login.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("upload/", pages.upload_page, name="upload-page"),
    path("uploads/<id:upload_id>/", pages.upload_status, name="upload-status"),
    path("activities/", pages.activity_list, name="activities-page"),
    path("activities/<id:activity_id>/", pages.activity_page, name="activity-page"),
    path("activities/<id:activity_id>/delete/", pages.delete_page, name="activity-delete"),
    path("activities/<id:activity_id>/edit/", edit.edit_page, name="activity-edit"),
    path("activities/<id:activity_id>/revise/", revise.revise_page, name="activity-revise"),
    path("activities/<id:activity_id>/revisions/<int:number>/restore/",
         revise.restore_revision, name="activity-restore"),
    path("settings/", account.settings_page, name="settings-page"),
    path("settings/password/", account.change_password, name="settings-password"),
    path("settings/tokens/", account.create_token, name="settings-token-create"),
    path("settings/tokens/<id:token_id>/revoke/", account.revoke_token,
         name="settings-token-revoke"),
    path("settings/sign-out-everywhere/", account.sign_out_everywhere,
         name="settings-sign-out-everywhere"),
    path("", RedirectView.as_view(pattern_name="activities-page"), name="home"),
]
