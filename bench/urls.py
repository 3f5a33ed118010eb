"""Cairn's URLs plus the floor view (benchmark a)."""

from django.urls import path

from bench.floor import floor
from settings.urls import urlpatterns as cairn_urlpatterns

urlpatterns = [path("bench/floor", floor), *cairn_urlpatterns]
