"""Run inside a benchmark site (`python -m bench.sharing_probe USER LAT LON`) while its
sweepers run: save a privacy zone at (LAT, LON) for USER, time the save and the rebuild
of every public copy, reading shared routes meanwhile (a read every 50 ms), and print one
JSON object."""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import F  # noqa: E402
from django.test import Client  # noqa: E402

from core import privacy  # noqa: E402
from sharing import build, changes  # noqa: E402
from sharing.models import PublicCopy  # noqa: E402
from work import clock, kinds  # noqa: E402

#: How long the sweepers may take to build everything else first (the users' books).
SETTLE_S = 1800


def _busy() -> list[str]:
    """The kinds with rows still needing work."""
    return [k.name for k in kinds.ALL.values()
            if k.model.objects.filter(k.rows(), needs_work=True).exists()]


def _behind(user_id: int) -> int:
    return (PublicCopy.objects.filter(owner_id=user_id)
            .exclude(needs_work=False, status="ready", version=build.VERSION,
                     privacy_version=F("owner__privacy__version")).count())


def main(username: str, lat: float, lon: float) -> dict:
    user = get_user_model().objects.get(username=username)
    links = list(PublicCopy.objects.filter(owner=user).values_list("activity__share_id",
                                                                   flat=True))
    stop, answers = threading.Event(), []

    def read() -> None:
        client, pick = Client(), random.Random(3)
        while not stop.is_set():
            answers.append(client.get(f"/api/v1/shared/{pick.choice(links)}/route").status_code)
            time.sleep(0.05)
        connection.close()

    reader = threading.Thread(target=read, daemon=True)
    # The sweepers build the books first (records, training, duplicates, segments): the
    # zone is saved once they are idle, so that only the copies' rebuild is timed.
    began = time.perf_counter()
    while _busy() and time.perf_counter() - began < SETTLE_S:
        time.sleep(1)
    settled = time.perf_counter() - began
    assert _behind(user.id) == 0
    started = time.perf_counter()
    changes.add_zone(user.id, privacy.Zone(lat, lon, 500), now=clock.now())
    saved = time.perf_counter()
    reader.start()
    while _behind(user.id):
        time.sleep(0.5)
    done = time.perf_counter()
    stop.set()
    reader.join()
    return {"settle_s": round(settled, 1), "busy": _busy(),
            "save_s": round(saved - started, 3), "rebuild_s": round(done - started, 1),
            "reads": len(answers), "updating": answers.count(503),
            "served": answers.count(200)}


if __name__ == "__main__":
    name, lat, lon = sys.argv[1:]
    try:
        print(json.dumps(main(name, float(lat), float(lon))))
    except Exception as error:  # the harness shows stdout's last line: say why there
        import traceback

        print(json.dumps({"error": f"{type(error).__name__}: {error}",
                          "trace": traceback.format_exc()[-1500:]}))
