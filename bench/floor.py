"""The floor for benchmark a: a bare Django view that reads the request and inserts one
row, served by the same gunicorn, settings and middleware as Cairn's upload."""

from __future__ import annotations

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

TABLE_SQL = ("CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, "
             "size_bytes integer NOT NULL, created_at timestamptz NOT NULL)")


@csrf_exempt
def floor(request):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_floor (size_bytes, created_at) VALUES (%s, now()) "
                       "RETURNING id", [len(request.body)])
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id}, status=201)
