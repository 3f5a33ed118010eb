"""An object store's multipart uploads (CAIRN_STORAGE=s3), the few calls tus needs, through
the default storage's client: every failure is FileNotFoundError or storage.Unavailable,
as for the storage's own calls (activities/objectstore.py), never botocore's. The store
answers NoSuchUpload (404) for an upload completed or aborted: FileNotFoundError.

Names are storage names (without AWS_LOCATION); the store's keys are made here.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from django.core.files.storage import default_storage


@dataclass(frozen=True)
class Part:
    number: int
    size: int
    etag: str


def _client():
    return default_storage.connection.meta.client


def _key(name: str) -> str:
    return default_storage._normalize_name(name)


def uploads(name: str) -> list[str]:
    """The ids of the multipart uploads in progress for `name`, oldest first."""
    found, marker = [], {}
    with default_storage._classified(name):
        while True:
            page = _client().list_multipart_uploads(
                Bucket=default_storage.bucket_name, Prefix=_key(name), **marker)
            found += [(u.get("Initiated"), u["UploadId"]) for u in page.get("Uploads", [])
                      if u["Key"] == _key(name)]
            if not page.get("IsTruncated"):
                break
            marker = {"KeyMarker": page["NextKeyMarker"],
                      "UploadIdMarker": page["NextUploadIdMarker"]}
    return [upload_id for _initiated, upload_id in sorted(found, key=lambda u: str(u[0]))]


def create(name: str) -> str:
    with default_storage._classified(name):
        return _client().create_multipart_upload(
            Bucket=default_storage.bucket_name, Key=_key(name))["UploadId"]


def parts(name: str, upload_id: str) -> dict[int, Part] | None:
    """The parts the store holds, by number; None when the upload is no more (completed or
    aborted). A part sent twice may be listed twice (SeaweedFS): listed last wins."""
    found: dict[int, Part] = {}
    marker: dict = {}
    try:
        with default_storage._classified(name):
            while True:
                page = _client().list_parts(Bucket=default_storage.bucket_name,
                                            Key=_key(name), UploadId=upload_id, **marker)
                for part in page.get("Parts", []):
                    found[part["PartNumber"]] = Part(part["PartNumber"], part["Size"],
                                                     part["ETag"])
                if not page.get("IsTruncated"):
                    return found
                marker = {"PartNumberMarker": page["NextPartNumberMarker"]}
    except FileNotFoundError:  # NoSuchUpload, a 404
        return None


def upload_part(name: str, upload_id: str, number: int, data: bytes) -> None:
    """Send one part; the store checks it against its MD5 before it answers."""
    digest = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
    with default_storage._classified(name):
        _client().upload_part(Bucket=default_storage.bucket_name, Key=_key(name),
                              UploadId=upload_id, PartNumber=number, Body=data,
                              ContentLength=len(data), ContentMD5=digest)


def complete(name: str, upload_id: str, listed: list[Part]) -> bool:
    """Assemble the object from these parts; False when the upload is no more (completed
    already, or aborted)."""
    try:
        with default_storage._classified(name):
            _client().complete_multipart_upload(
                Bucket=default_storage.bucket_name, Key=_key(name), UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": p.number, "ETag": p.etag}
                                           for p in listed]})
    except FileNotFoundError:
        return False
    return True


def abort(name: str, upload_id: str) -> None:
    """Discard the upload and its parts; nothing to do when it is no more."""
    try:
        with default_storage._classified(name):
            _client().abort_multipart_upload(Bucket=default_storage.bucket_name,
                                             Key=_key(name), UploadId=upload_id)
    except FileNotFoundError:
        pass


def read_range(name: str, start: int, end: int) -> bytes:
    """Bytes [start, end) of the object `name` (one ranged GET, not the whole object)."""
    with default_storage._classified(name):
        body = _client().get_object(Bucket=default_storage.bucket_name, Key=_key(name),
                                    Range=f"bytes={start}-{end - 1}")["Body"]
        data = body.read()
    if len(data) != end - start:
        raise FileNotFoundError(f"{name} holds fewer than {end} bytes")
    return data
