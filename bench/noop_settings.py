"""The benchmark's settings with the no-op deriver registered (bench/noop.py): the
backfill's web worker and sweepers run on these, so that both agree on the derivers."""

from bench import noop
from bench.settings import *  # noqa: F403

noop.register()
