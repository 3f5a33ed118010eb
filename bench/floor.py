"""The floors for benchmark a, served by the same gunicorn, settings and middleware as
Cairn's upload:

* `floor`: a bare view that reads the request and inserts one row;
* `durable_floor`: what any upload that promises "acknowledged = stored" must do at
  least: parse the same multipart body, store the file's bytes durably as the configured
  store does (on `fs` Cairn's own fsync'd write, rename and directory fsync; on `s3` one
  PUT), and insert one row. No token, no dedup, no limits, no nudge."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

TABLE_SQL = ("CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, "
             "size_bytes integer NOT NULL, created_at timestamptz NOT NULL)")

# insert_floor_row: the one row each floor request writes.
INSERT_SQL = ("INSERT INTO bench_floor (size_bytes, created_at) VALUES (%(size_bytes)s, now()) "
              "RETURNING id")


@csrf_exempt
def floor(request):
    return JsonResponse({"id": _insert(len(request.body))}, status=201)


@csrf_exempt
def durable_floor(request):
    data = request.FILES["file"].read()
    name = f"floor/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}.fit"
    if settings.CAIRN_STORAGE == "s3":
        storage = default_storage
        storage.connection.meta.client.put_object(
            Bucket=storage.bucket_name, Key=storage._normalize_name(name), Body=data)
    else:
        default_storage.save(name, ContentFile(data))  # DurableFileSystemStorage: fsync'd
    return JsonResponse({"id": _insert(len(data))}, status=201)


def _insert(size_bytes: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(INSERT_SQL, {"size_bytes": size_bytes})
        (row_id,) = cursor.fetchone()
    return row_id
