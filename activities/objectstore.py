"""Originals in an S3-compatible object store (CAIRN_STORAGE=s3), through django-storages.

Two things are added to django-storages' S3 backend. An object counts as stored only when
the store has confirmed it: the PUT carries the content's SHA-256, which the store checks
against the body, and its answer must name the same checksum (or, from a store that keeps
no checksums, an ETag equal to the MD5 of the body); a HEAD is asked only when the answer
names neither. A new original is then two calls: the look for it, and the PUT. And every
failure of the store is one of two exceptions the rest of Cairn understands:
FileNotFoundError (the object is not there) or storage.Unavailable (the store cannot be
reached, or answered with an error): callers never see botocore's own.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from botocore.exceptions import BotoCoreError, ClientError
from s3transfer.exceptions import RetriesExceededError, S3UploadFailedError
from storages.backends.s3 import S3Storage
from storages.utils import ReadBytesWrapper, clean_name

from activities import metrics
from activities.storage import Unavailable

log = structlog.get_logger(__name__)

# What a store failing, away or slow looks like to botocore and s3transfer.
_STORE_ERRORS = (BotoCoreError, RetriesExceededError, S3UploadFailedError, ConnectionError,
                 TimeoutError)
_CHUNK = 1 << 20


class VerifiedS3Storage(S3Storage):
    """django-storages' S3Storage, acknowledging a save only once the store confirmed it."""

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return clean_name(name)  # names are content hashes: the same name, the same bytes

    def _save(self, name: str, content) -> str:
        cleaned = clean_name(name)
        key = self._normalize_name(cleaned)
        params = self._get_write_parameters(key, content)
        size, sha256, md5 = digests(content)
        checksum = base64.b64encode(sha256).decode()
        client = self.connection.meta.client
        with self._classified(key):
            # One PUT (up to 5 GB, the S3 limit; archives are capped far below): the store
            # checks the body against the checksum before it answers.
            answer = client.put_object(Bucket=self.bucket_name, Key=key,
                                       Body=ReadBytesWrapper(content), ContentLength=size,
                                       ChecksumSHA256=checksum, **params)
            confirmed = _confirms(answer, sha256=sha256, md5=md5)
            if confirmed is None:  # the answer names no digest: ask for the object's
                head = client.head_object(Bucket=self.bucket_name, Key=key,
                                          ChecksumMode="ENABLED")
                confirmed = _matches(head, size=size, sha256=sha256, md5=md5)
        if not confirmed:
            log.error("storage.unconfirmed", key=key, size_bytes=size)
            metrics.STORE_ERRORS.labels(reason="unconfirmed").inc()
            raise Unavailable(f"The object store did not confirm {key} as sent "
                              f"({size} bytes); it was not acknowledged.")
        return cleaned

    def _open(self, name: str, mode: str = "rb"):
        with self._classified(name):
            handle = super()._open(name, mode)
            if "r" in mode:
                # Fetch now, so that a failure is classified here and not at the first
                # read (into a spooled temporary file: AWS_S3_MAX_MEMORY_SIZE in memory).
                handle.file  # noqa: B018
        return handle

    def exists(self, name: str) -> bool:
        with self._classified(name):
            return super().exists(name)

    def delete(self, name: str) -> None:
        with self._classified(name):
            super().delete(name)

    def listdir(self, name: str) -> tuple[list[str], list[str]]:
        with self._classified(name):
            return super().listdir(name)

    def size(self, name: str) -> int:
        with self._classified(name):
            return super().size(name)

    def get_modified_time(self, name: str):
        with self._classified(name):
            return super().get_modified_time(name)

    def holds(self, name: str, *, size: int, sha256: bytes, md5: bytes) -> bool:
        """Whether the store has exactly these bytes under `name` (by length and SHA-256,
        or the ETag of a single-part PUT from a store that keeps no checksums)."""
        key = self._normalize_name(clean_name(name))
        try:
            with self._classified(name):
                head = self.connection.meta.client.head_object(
                    Bucket=self.bucket_name, Key=key, ChecksumMode="ENABLED")
        except FileNotFoundError:
            return False
        return _matches(head, size=size, sha256=sha256, md5=md5)

    @contextmanager
    def _classified(self, name: str) -> Iterator[None]:
        try:
            yield
        except FileNotFoundError:  # django-storages' own translation of a 404
            if self._bucket_there():
                raise
            metrics.STORE_ERRORS.labels(reason="no_bucket").inc()
            raise Unavailable(f"The bucket {self.bucket_name!r} is not there.") from None
        except ClientError as error:
            if _status(error) == 404 and _code(error) != "NoSuchBucket" and self._bucket_there():
                raise FileNotFoundError(f"{name} is not in the object store") from None
            log.warning("storage.unavailable", key=name, error=str(error))
            metrics.STORE_ERRORS.labels(reason="error").inc()
            raise Unavailable(f"The object store answered with an error ({_code(error)}).") \
                from error
        except _STORE_ERRORS as error:
            log.warning("storage.unavailable", key=name, error=str(error))
            metrics.STORE_ERRORS.labels(reason="unreachable").inc()
            raise Unavailable(f"The object store cannot be reached "
                              f"({type(error).__name__}).") from error

    def _bucket_there(self) -> bool:
        """A HEAD answers 404 without a body for a missing bucket too: only an object that
        is missing from a bucket that is there is missing (never a misconfiguration)."""
        try:
            self.connection.meta.client.head_bucket(Bucket=self.bucket_name)
        except (ClientError, *_STORE_ERRORS):
            return False
        return True


def _confirms(answer: dict, *, sha256: bytes, md5: bytes) -> bool | None:
    """Whether a PUT's answer confirms these bytes: by the checksum it names, else by an
    ETag that is an MD5 (a single-part PUT's); None when it names neither."""
    stored = answer.get("ChecksumSHA256")
    if stored:
        return stored == base64.b64encode(sha256).decode()
    etag = answer.get("ETag", "").strip('"')
    if len(etag) == 32 and "-" not in etag:
        return etag == md5.hex()
    return None


def _matches(head: dict, *, size: int, sha256: bytes, md5: bytes) -> bool:
    stored = head.get("ChecksumSHA256")
    if head.get("ContentLength") != size:
        return False
    if stored:
        return stored == base64.b64encode(sha256).decode()
    return head.get("ETag", "").strip('"') == md5.hex()


def _status(error: ClientError) -> int | None:
    return error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def digests(content) -> tuple[int, bytes, bytes]:
    """Length, SHA-256 and MD5 of a file, read in chunks; it is left at its start."""
    sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    content.seek(0, os.SEEK_SET)
    while chunk := content.read(_CHUNK):
        if isinstance(chunk, str):
            chunk = chunk.encode()
        sha256.update(chunk)
        md5.update(chunk)
        size += len(chunk)
    content.seek(0, os.SEEK_SET)
    return size, sha256.digest(), md5.digest()
