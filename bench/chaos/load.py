"""The chaos run's load: distinct activity files, uploaded through the HTTP API by several
clients that retry (with the same Idempotency-Key) until Cairn acknowledges. Every
DIRECT_EVERY-th file goes through an upload session instead (the bytes PUT to the store,
ingested by the sweep), and counts once the sweep has made it an activity."""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tests import factories

#: One file in this many is sent as a direct (presigned) upload.
DIRECT_EVERY = 10


@dataclass(frozen=True)
class Ack:
    index: int
    upload_id: int
    activity_id: int
    at: float  # time.time() of the 202
    tries: int


def make_files(count: int, *, seed: int) -> list[tuple[str, bytes]]:
    """Mostly small GPX and FIT files, with a few long ones so that kills land mid-file."""
    rng = random.Random(seed)
    files = []
    for index in range(count):
        unique = seed * 100_000 + index  # seeds count minutes: stay inside FIT's clock
        roll = rng.random()
        if roll < 0.55:
            files.append((f"{index}.gpx", factories.gpx(points=rng.randint(100, 1200),
                                                        seed=unique)))
        elif roll < 0.97:
            files.append((f"{index}.fit", factories.fit(points=rng.randint(300, 3000),
                                                        seed=unique)))
        else:
            files.append((f"{index}.fit", factories.fit(points=rng.randint(15_000, 30_000),
                                                        seed=unique)))
    return files


def upload_all(files: list[tuple[str, bytes]], *, port: int, token: str, clients: int,
               spread_s: float) -> tuple[list[Ack], list[str]]:
    """Upload every file, spread evenly over `spread_s` seconds so that the faults land
    among them; returns the acknowledgements and the uploads given up on."""
    run = uuid.uuid4().hex[:8]
    start, step = time.monotonic(), spread_s / max(len(files), 1)

    def paced(item: tuple[int, tuple[str, bytes]]) -> Ack | str:
        index, (name, data) = item
        time.sleep(max(0.0, start + index * step - time.monotonic()))
        if index % DIRECT_EVERY == DIRECT_EVERY - 1:
            return _direct(index, name, data, port=port, token=token)
        return _upload(index, name, data, port=port, token=token, run=run)

    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(paced, enumerate(files)))
    acks = [r for r in results if isinstance(r, Ack)]
    return acks, [r for r in results if isinstance(r, str)]


def _upload(index: int, name: str, data: bytes, *, port: int, token: str,
            run: str) -> Ack | str:
    body, boundary = _multipart(name, data)
    deadline = time.monotonic() + 300
    tries, pause = 0, 0.2
    while time.monotonic() < deadline:
        tries += 1
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/uploads", data=body, method="POST",
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"{run}-{index}",
                     "Content-Type": f"multipart/form-data; boundary={boundary}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                reply = json.load(answer)
                return Ack(index=index, upload_id=reply["id"], activity_id=reply["activity_id"],
                           at=time.time(), tries=tries)
        except urllib.error.HTTPError as error:
            if error.code < 500 and error.code != 429:
                return f"{name}: HTTP {error.code} {error.read()[:200]!r}"
        except (OSError, ValueError):
            pass  # the server restarting, the database away: retry as a client would
        time.sleep(pause)
        pause = min(pause * 2, 2.0)
    return f"{name}: not acknowledged after {tries} tries"


def _direct(index: int, name: str, data: bytes, *, port: int, token: str) -> Ack | str:
    """Open a session, PUT the bytes where it says, nudge, then wait for the sweep to make
    the upload an activity. Each step is retried through the faults as a client would."""
    deadline, tries = time.monotonic() + 300, 0
    base, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}

    def call(url: str, *, method: str, body: bytes | None = None, headers=None) -> dict:
        nonlocal tries
        while time.monotonic() < deadline:
            tries += 1
            request = urllib.request.Request(url, data=body, method=method,
                                             headers={**auth, **(headers or {})})
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    raw = answer.read()
                    return json.loads(raw) if raw else {}
            except urllib.error.HTTPError as error:
                if error.code < 500 and error.code != 429:
                    raise ValueError(f"HTTP {error.code} {error.read()[:200]!r}") from None
            except (OSError, ValueError):
                pass
            time.sleep(0.5)
        raise TimeoutError("no answer")

    try:
        session = call(f"{base}/api/v1/upload-sessions", method="POST",
                       body=json.dumps({"filename": name, "size": len(data)}).encode(),
                       headers={"Content-Type": "application/json"})
        put_headers = {k: v for k, v in session["headers"].items() if k != "Authorization"}
        if session["url"].startswith(base):
            call(session["url"], method="PUT", body=data, headers=put_headers)
        else:  # the store itself: no token
            _put_to_store(session["url"], data, put_headers, deadline)
        call(f"{base}/api/v1/upload-sessions/{session['id']}/complete", method="POST")
        while time.monotonic() < deadline:
            upload = call(f"{base}/api/v1/uploads/{session['upload_id']}", method="GET")
            if upload["status"] == "failed":
                return f"{name}: direct upload failed: {upload['error']}"
            if upload["activity_id"]:
                return Ack(index=index, upload_id=upload["id"],
                           activity_id=upload["activity_id"], at=time.time(), tries=tries)
            time.sleep(0.5)
    except (ValueError, TimeoutError) as error:
        return f"{name}: direct upload: {error}"
    return f"{name}: direct upload not ingested in time"


def _put_to_store(url: str, data: bytes, headers: dict, deadline: float) -> None:
    """With requests: it adds no Content-Type of its own (urllib does, unsigned, and the
    store then refuses the signature)."""
    import requests

    while time.monotonic() < deadline:
        try:
            if requests.put(url, data=data, headers=headers, timeout=30).status_code == 200:
                return
        except requests.RequestException:
            pass  # the store restarting
        time.sleep(0.5)
    raise TimeoutError("the store did not take the bytes")


def _multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), boundary
