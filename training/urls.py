"""URLs of the training app: the API and the pages."""

from django.urls import path

from training import pages, views

urlpatterns = [
    path("api/v1/thresholds", views.thresholds_api, name="api-thresholds"),
    path("api/v1/fitness", views.fitness_api, name="api-fitness"),
    path("api/v1/power-curve", views.power_curve_api, name="api-power-curve"),
    path("api/v1/gear", views.gear_api, name="api-gear"),
    path("api/v1/gear/<id:gear_id>", views.gear_detail_api, name="api-gear-detail"),
    path("fitness/", pages.fitness_page, name="fitness-page"),
    path("fitness/thresholds/", pages.threshold_add, name="threshold-add"),
    path("gear/", pages.gear_page, name="gear-page"),
    path("gear/<id:gear_id>/", pages.gear_detail_page, name="gear-detail"),
    path("gear/<id:gear_id>/delete/", pages.gear_delete_page, name="gear-delete"),
]
