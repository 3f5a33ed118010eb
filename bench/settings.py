"""Cairn's settings with the benchmark's URLs (the floor view) added."""

from settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
