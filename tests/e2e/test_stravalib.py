"""The real stravalib client, pointed at a live Cairn over TLS on loopback: it uploads,
waits and reads the activity as it would from Strava."""

import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import requests
import stravalib
from stravalib import exc

from activities import tokens
from tests.conftest import subprocess_env
from tests.corpus import require_corpus, rows
from tests.ports import free_port

REPO = Path(__file__).resolve().parents[2]
RUN = "fit/fitparse__activity-small-fenix2-run.fit"


@pytest.fixture
def cairn_over_tls(tmp_path):
    """gunicorn serving Cairn with a throwaway certificate, and a sweeper."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    port = free_port()
    env = subprocess_env(CAIRN_CLOCK="local")
    processes = [
        subprocess.Popen([sys.executable, "-m", "gunicorn", "settings.wsgi", "--bind",
                          f"127.0.0.1:{port}", "--workers", "2", "--certfile", str(cert),
                          "--keyfile", str(key)], cwd=REPO, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, "manage.py", "reconcile", "--loop", "--interval",
                          "0.2"], cwd=REPO, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    context = ssl.create_default_context(cafile=str(cert))
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"https://127.0.0.1:{port}/healthz", context=context,
                                   timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail("gunicorn did not come up over TLS")
            time.sleep(0.1)
    yield f"127.0.0.1:{port}", str(cert)
    for process in processes:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _client(server: str, cert: str, token: str) -> stravalib.Client:
    session = requests.Session()
    # REQUESTS_CA_BUNDLE in the environment would win over `verify`: ignore the environment.
    session.trust_env = False
    session.verify = cert
    client = stravalib.Client(access_token=token, requests_session=session,
                              rate_limit_requests=False)
    client.protocol.server = server  # "pointing it at Cairn"
    return client


@pytest.mark.corpus
@pytest.mark.django_db(transaction=True)
def test_stravalib_uploads_waits_and_reads_the_activity(user, cairn_over_tls, capsys):
    folder = require_corpus()
    device = next(r for r in rows("fit") if r["file"] == RUN)
    server, cert = cairn_over_tls
    client = _client(server, cert, tokens.create(user))

    started = time.monotonic()
    with open(Path(folder, RUN), "rb") as handle:
        uploader = client.upload_activity(handle, data_type="fit", name="Morning run",
                                          description="Along the coast",
                                          external_id="fenix-run-1.fit", commute=True)
    acknowledged = time.monotonic() - started
    assert uploader.is_processing
    activity = uploader.wait(timeout=60, poll_interval=0.2)
    ready = time.monotonic() - started

    assert activity.id == uploader.activity_id
    assert activity.name == "Morning run"
    assert activity.description == "Along the coast"
    assert activity.external_id == "fenix-run-1.fit"
    assert activity.commute is True and activity.trainer is False
    assert activity.sport_type.root == "Run"
    assert float(activity.distance) == pytest.approx(float(device["total_distance_m"]), abs=1)
    assert int(activity.elapsed_time) == round(float(device["total_elapsed_time_s"]))
    assert activity.moving_time > 0
    assert activity.start_date.isoformat().startswith(device["session_start_time"][:19])
    assert activity.map.summary_polyline
    assert activity.has_heartrate and activity.average_heartrate > 0

    # The same file again: Strava's duplicate error, naming the activity.
    with open(Path(folder, RUN), "rb") as handle, \
            pytest.raises(exc.ActivityUploadFailed, match=f"duplicate of activity {activity.id}"):
        client.upload_activity(handle, data_type="fit")
    with capsys.disabled():
        print(f"\nstravalib: upload acknowledged in {acknowledged * 1000:.0f} ms, "
              f"activity ready and read back after {ready:.2f} s")


@pytest.mark.django_db(transaction=True)
def test_strava_faults_for_a_bad_token_and_an_unknown_activity(user, cairn_over_tls):
    server, cert = cairn_over_tls
    with pytest.raises(exc.AccessUnauthorized):
        _client(server, cert, "cairn_not-a-token").get_activity(1)
    with pytest.raises(exc.ObjectNotFound):
        _client(server, cert, tokens.create(user)).get_activity(999_999)


@pytest.mark.django_db(transaction=True)
def test_stravalib_get_activities_pages_through_the_athletes_activities(
        user, other_user, cairn_over_tls):
    from datetime import UTC, datetime, timedelta

    from activities import ingest
    from activities.models import Activity
    from tests import factories

    start = datetime(2026, 1, 10, 8, tzinfo=UTC)
    ids = [ingest.accept(factories.gpx(start=start + timedelta(days=d)), owner=user,
                         limited=False).activity.id for d in range(5)]
    ingest.accept(factories.gpx(), owner=other_user, limited=False)
    deadline = time.monotonic() + 60
    while Activity.objects.filter(status="ready").count() < 6:  # the live sweeper's work
        assert time.monotonic() < deadline, "the activities were not processed"
        time.sleep(0.2)
    server, cert = cairn_over_tls
    client = _client(server, cert, tokens.create(user))

    listed = client.get_activities()
    listed.per_page = 2  # three pages of Strava's page/per_page, the last one short
    activities = list(listed)
    assert [a.id for a in activities] == ids[::-1]
    newest = activities[0]
    # Named as Cairn shows it everywhere: nobody named it, so its derived title.
    from activities import serialize

    shown = serialize.activity_dict(Activity.objects.get(id=ids[-1]))["name"]
    assert shown and newest.name == shown
    assert newest.sport_type.root == "Ride"
    assert newest.start_date == start + timedelta(days=4)
    assert float(newest.distance) > 0 and newest.elapsed_time > 0
    assert newest.map.summary_polyline

    since = [a.id for a in client.get_activities(after=start + timedelta(days=2, hours=1))]
    assert since == ids[3:]  # oldest first, as Strava answers `after` alone
    until = [a.id for a in client.get_activities(before=start + timedelta(days=1, hours=1),
                                                 limit=1)]
    assert until == [ids[1]]
