"""Hostile and broken input: every bad upload is a 4xx with the JSON error or ends
`failed` with a readable error; never a 500, never a crashed worker, never an expansion."""

import gzip
import random
import subprocess
import sys
import tracemalloc
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from activities import ingest
from activities.models import Activity, Derived
from core import track as track_codec
from core.derivers import track as track_deriver
from reconciler import sweep
from tests import factories
from tests.conftest import subprocess_env
from tests.corpus import corpus_dir
from work.models import Attempt

pytestmark = pytest.mark.django_db

FILES = Path(__file__).resolve().parents[1] / "files"


def _post(api, data: bytes, name: str = "x.gpx"):
    return api.post("/api/v1/uploads", {"file": SimpleUploadedFile(name, data)})


def _settle(api, data: bytes) -> Activity | int:
    """Upload and reconcile; the activity, or the 4xx status if refused at the door."""
    response = _post(api, data)
    assert response.status_code != 500
    if response.status_code != 202:
        assert 400 <= response.status_code < 500
        assert set(response.json()["error"]) == {"code", "message"}
        return response.status_code
    sweep.drain()
    return Activity.objects.get(id=response.json()["activity_id"])


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE gpx [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
]>
<gpx version="1.1" creator="&e;"><trk><trkseg>
<trkpt lat="46.0" lon="14.0"><time>2026-01-01T10:00:00Z</time></trkpt>
<trkpt lat="46.001" lon="14.0"><time>2026-01-01T10:00:10Z</time></trkpt>
</trkseg></trk></gpx>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE gpx [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<gpx version="1.1"><trk><name>&secret;</name><trkseg>
<trkpt lat="46.0" lon="14.0"><time>2026-01-01T10:00:00Z</time></trkpt>
<trkpt lat="46.001" lon="14.0"><time>2026-01-01T10:00:10Z</time></trkpt>
</trkseg></trk></gpx>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY],
                         ids=["entity-expansion", "external-entity"])
def test_xml_entities_are_never_expanded_nor_fetched(api, data):
    activity = _settle(api, data)
    assert activity.status == Activity.Status.FAILED
    assert activity.error_code == "UnsafeXml"
    assert "root:" not in activity.error_message
    assert len(activity.error_message) < 500


def test_gzip_bomb_is_refused_while_memory_stays_bounded(api, settings):
    settings.CAIRN_MAX_UPLOAD_MB = 50
    settings.CAIRN_MAX_INFLATE_RATIO = 10  # up to 500 MB inflated would be allowed...
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = b"\0" * (8 << 20)
    bomb = (packer.compress(b"<gpx>") + b"".join(packer.compress(zeros) for _ in range(128))
            + packer.flush())
    assert len(bomb) < 2 << 20  # ...and this 1 GB bomb weighs about 1 MB
    tracemalloc.start()
    try:
        response = _post(api, bomb, name="bomb.gpx.gz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.status_code == 413
    assert peak < 64 << 20, f"peak {peak >> 20} MB"


@pytest.mark.parametrize("name", ["bad_coordinates.gpx", "backwards_times.gpx"])
def test_nonsense_points_never_give_nonsense_totals(api, name):
    activity = _settle(api, (FILES / name).read_bytes())
    if isinstance(activity, Activity) and activity.status == Activity.Status.READY:
        body = api.get(f"/api/v1/activities/{activity.id}").json()
        for key in ("elapsed_s", "moving_s", "distance_m", "ascent_m", "descent_m"):
            assert body[key] is None or body[key] >= 0, key
        if body["bbox"]:
            assert -90 <= body["bbox"]["min_lat"] <= body["bbox"]["max_lat"] <= 90
            assert -180 <= body["bbox"]["min_lon"] <= body["bbox"]["max_lon"] <= 180
        assert body["max_speed_mps"] is None or body["max_speed_mps"] < 200
    else:
        assert activity.error_message


@pytest.mark.parametrize("data", [
    b"",
    (FILES / "empty.gpx").read_bytes(),
    (FILES / "route_and_waypoints.gpx").read_bytes(),
    gzip.compress(b""),
], ids=["empty", "empty-gpx", "route-only", "empty-gzip"])
def test_empty_and_zero_point_files_fail_with_a_message(api, data):
    outcome = _settle(api, data)
    if isinstance(outcome, Activity):
        assert outcome.status == Activity.Status.FAILED
        assert outcome.error_code == "NoPoints"
        assert len(outcome.error_message) > 20


def _mutants(seed: int):
    """Truncated and bit-flipped variants of small real files."""
    rng = random.Random(seed)
    sources = [factories.gpx(points=80), (FILES / "tiny_run.fit").read_bytes()]
    corpus = corpus_dir()
    if corpus is not None:
        sources += [Path(corpus, "fit/fitparse__garmin-fenix-5-run.fit").read_bytes(),
                    Path(corpus, "gpx/togeojson__run.gpx").read_bytes()[:20_000]]
    for _ in range(40):
        data = bytearray(rng.choice(sources))
        if rng.random() < 0.5:
            del data[rng.randrange(12, len(data)):]
        for _ in range(rng.randrange(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        yield bytes(data)


def test_mangled_files_never_crash_a_worker_nor_answer_500(api):
    settled = [_settle(api, data) for data in _mutants(seed=20261123)]
    activities = [a for a in settled if isinstance(a, Activity)]
    assert len(activities) > 10
    for activity in activities:
        activity.refresh_from_db()
        assert activity.status in (Activity.Status.READY, Activity.Status.FAILED)
        if activity.status == Activity.Status.FAILED:
            assert len(activity.error_message) > 15
    # Nothing was retried: every failure was recognised as the file's fault at once.
    assert not Attempt.objects.filter(outcome=Attempt.Outcome.RETRYING).exists()


# --- Files that are small on the wire and costly to read -----------------------------------

REPO = Path(__file__).resolve().parents[2]
# A worker reconciling a small file peaks near 90 MB here; gpxpy reads the files below in
# about 50 MB more. The ceiling leaves room for a slower allocator, and the old reader
# went to 4 GB and more (the address-space cap turns that into a MemoryError instead).
WORKER_CEILING_MB = 300
WORKER_ADDRESS_SPACE = 2 << 30


def _extensions_gpx(tags: str, *, points: int = 2) -> bytes:
    rows = "".join(f'<trkpt lat="46.{i}" lon="14.0"><time>2026-01-01T10:00:{i:02d}Z</time>'
                   f"<extensions>{tags}</extensions></trkpt>" for i in range(points))
    return ('<?xml version="1.0"?><gpx version="1.1" creator="t" '
            'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
            f"{rows}</trkseg></trk></gpx>").encode()


def _nested(depth: int, *, leaf: str = "1") -> str:
    return ("".join(f"<n{i % 10}>" for i in range(depth)) + leaf
            + "".join(f"</n{i % 10}>" for i in reversed(range(depth))))


# Runs the worker as a grandchild and reports its peak. A child forked from this test
# process starts with the test process's own peak (Linux keeps the largest RSS across
# fork and exec), which grows with the suite; a fresh small launcher forks the worker, so
# the figure is the worker's alone.
_LAUNCHER = """
import os, resource, sys
cap = int(sys.argv[1])
pid = os.fork()
if pid == 0:
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _run_worker(*, address_space: int, **env: str) -> tuple[int, int]:
    """Run `reconcile --once` under an address-space cap; (exit status, peak RSS in MB),
    the peak read from the kernel's accounting of that worker process alone."""
    done = subprocess.run([sys.executable, "-c", _LAUNCHER, str(address_space),
                           sys.executable, "manage.py", "reconcile", "--once"], cwd=REPO,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                          env=subprocess_env(CAIRN_CLOCK="local", **env))
    return done.returncode, int(done.stdout.split()[-1]) >> 10  # kB on Linux


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("tags", [
    # The finding's file: 16,000 distinct tags side by side (a 4 GB pattern before).
    "".join(f"<t{i}>1</t{i}>" for i in range(16_000)),
    # 100,000 nested tags (past 22 GB before).
    _nested(100_000),
    # Wide and deep: 300 side by side, each 300 deep, the heart rate at the very end.
    "".join(_nested(300) for _ in range(300)) + "<hr>150</hr>",
], ids=["16000-flat", "100000-nested", "300-wide-300-deep"])
def test_tag_heavy_extensions_keep_a_real_worker_small(user, tags):
    data = _extensions_gpx(tags)
    activity = ingest.accept(data, owner=user, original_name="heavy.gpx").activity
    status, peak_mb = _run_worker(address_space=WORKER_ADDRESS_SPACE)
    assert status == 0
    assert peak_mb < WORKER_CEILING_MB, f"worker peaked at {peak_mb} MB for {len(data)} bytes"
    activity.refresh_from_db()
    assert activity.status == Activity.Status.READY  # as gpxpy reads it: two points
    track = Derived.objects.get(activity=activity, deriver="track")
    hr = track_codec.decode(bytes(track.data)).columns["hr"]
    assert len(hr) == 2
    if "<hr>" in tags:
        assert list(hr) == [150.0, 150.0]


@pytest.mark.django_db(transaction=True)
def test_a_file_too_big_for_the_workers_memory_fails_at_once_with_a_sentence(user, settings):
    # 300 MB of text under a 700 MB address space (the worker's own is about 330 MB):
    # reading it raises MemoryError somewhere in the decoders.
    activity = ingest.accept(factories.gzipped_gpx(inflated_mb=300), owner=user,
                             original_name="huge.gpx.gz").activity
    # Its 4.4 million points would be refused first (TooManyPoints, below).
    status, _ = _run_worker(address_space=700 << 20, CAIRN_MAX_POINTS="100000000")
    assert status == 0
    activity.refresh_from_db()
    assert activity.status == Activity.Status.FAILED
    assert activity.error_code == "OutOfMemory"
    assert activity.error_message == track_deriver.OUT_OF_MEMORY
    assert not activity.needs_work  # failed for good, not waiting for a retry
    outcomes = list(Attempt.objects.filter(kind="activity", row_id=activity.id)
                    .values_list("outcome", flat=True))
    assert outcomes == [Attempt.Outcome.FAILED]


@pytest.mark.django_db(transaction=True)
def test_a_file_of_too_many_points_fails_before_it_is_parsed(user):
    # 4.4 million points in 300 MB of text: counted as the gzip inflates, and refused
    # before anything holds the text.
    activity = ingest.accept(factories.gzipped_gpx(inflated_mb=300), owner=user,
                             original_name="huge.gpx.gz").activity
    status, peak_mb = _run_worker(address_space=WORKER_ADDRESS_SPACE)
    assert status == 0
    assert peak_mb < WORKER_CEILING_MB
    activity.refresh_from_db()
    assert (activity.status, activity.error_code) == (Activity.Status.FAILED,
                                                      "TooManyPoints")
    assert activity.error_message == ("This file holds more than 2,000,000 track points, "
                                      "more than Cairn takes for one activity.")
    assert not activity.needs_work
