"""Cairn's URLs plus the floor views (benchmark a)."""

from django.urls import path

from bench.floor import durable_floor, floor
from settings.urls import urlpatterns as cairn_urlpatterns

urlpatterns = [path("bench/floor", floor), path("bench/durable-floor", durable_floor),
               *cairn_urlpatterns]
