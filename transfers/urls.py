"""URLs of upload sessions and tus uploads (included by settings/urls.py)."""

from django.urls import path

from transfers import tus, views

urlpatterns = [
    path("api/v1/upload-sessions", views.upload_sessions, name="api-upload-sessions"),
    path("api/v1/upload-sessions/<id:session_id>", views.upload_session,
         name="api-upload-session"),
    path("api/v1/upload-sessions/<id:session_id>/content", views.content,
         name="api-upload-session-content"),
    path("api/v1/upload-sessions/<id:session_id>/complete", views.complete,
         name="api-upload-session-complete"),
    path("api/v1/tus", tus.collection, name="api-tus"),
    path("api/v1/tus/<id:session_id>", tus.resource, name="api-tus-upload"),
]
