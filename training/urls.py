"""URLs of the training app: the API."""

from django.urls import path

from training import views

urlpatterns = [
    path("api/v1/thresholds", views.thresholds_api, name="api-thresholds"),
    path("api/v1/fitness", views.fitness_api, name="api-fitness"),
    path("api/v1/power-curve", views.power_curve_api, name="api-power-curve"),
    path("api/v1/gear", views.gear_api, name="api-gear"),
    path("api/v1/gear/<id:gear_id>", views.gear_detail_api, name="api-gear-detail"),
]
