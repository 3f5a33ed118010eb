"""Benchmark a, in one process: what one API upload costs when nothing else runs beside
it (Django's test client, one request at a time, the database of DATABASE_URL), and how
many SQL statements it sends. A noisy machine moves these figures far less than the
gunicorn load's, so before/after comparisons of the upload path are made here.

    DATABASE_URL=postgres://… CAIRN_DATA_DIR=… python -m bench.ack_inprocess [--uploads N]

Migrates the database, makes a user with a token, warms up, then times N distinct
~100 KB FIT uploads and N requests to each floor (bench/floor.py, the same body);
prints one JSON object. With --profile, the top of a cProfile of the uploads.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("CAIRN_UPLOADS_PER_MINUTE", "0")
os.environ.setdefault("CAIRN_MAX_PENDING", "0")


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uploads", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="cumulative", help="cProfile order (tottime…)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from activities import tokens
    from bench import ack_client, floor

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(floor.TABLE_SQL)
    user, _ = get_user_model().objects.get_or_create(username="bench-inprocess")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(user)}")
    files = ack_client.Files(points=7800, first=int(time.time()) % 10_000 * 10_000)

    def post(path: str) -> int:
        data = files.next()
        return client.post(path, {"file": _named(data)}).status_code

    for _ in range(20):  # warm-up: imports, connections, prepared statements
        assert post("/api/v1/uploads") == 202
        assert post("/bench/floor") == 201
        assert post("/bench/durable-floor") == 201
    with CaptureQueriesContext(connection) as queries:
        post("/api/v1/uploads")
    result = {"vendor": connection.vendor, "uploads": args.uploads,
              "statements_per_upload": len(queries),
              "statements": [q["sql"][:60] for q in queries.captured_queries]}
    for path, name in (("/bench/floor", "floor_ms"), ("/bench/durable-floor", "durable_floor_ms"),
                       ("/api/v1/uploads", "upload_ms")):
        times, cpu = [], []
        for _ in range(args.uploads):
            started, cpu_started = time.perf_counter(), time.process_time()
            post(path)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
        # Wall time waits on fsync and the database as well; CPU time is this process's
        # own work (with the nudge thread's), which a busy machine moves less.
        result[name] = {"median": statistics.median(times),
                        "p90": statistics.quantiles(times, n=10)[-1],
                        "cpu_median": statistics.median(cpu)}
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.uploads):
            post("/api/v1/uploads")
        profiler.disable()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(40)
    return result


def _named(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("ride.fit", data, content_type="application/octet-stream")


if __name__ == "__main__":
    print(json.dumps(main()))
