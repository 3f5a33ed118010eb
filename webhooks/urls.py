"""URLs of webhooks: the v1 API and Strava's push subscriptions (included at the root)."""

from django.urls import path

from webhooks import views

urlpatterns = [
    path("api/v1/webhooks", views.webhooks, name="api-webhooks"),
    path("api/v1/webhooks/<id:webhook_id>", views.webhook_detail, name="api-webhook"),
    path("api/v1/webhooks/<id:webhook_id>/deliveries", views.webhook_deliveries,
         name="api-webhook-deliveries"),
    path("api/v3/push_subscriptions", views.push_subscriptions, name="strava-push"),
    path("api/v3/push_subscriptions/<id:subscription_id>", views.push_subscriptions,
         name="strava-push-one"),
]
