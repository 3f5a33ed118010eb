"""Where a session's bytes wait in the store until the sweep ingests them: one object for
a presigned upload, a folder of chunks for a tus upload. Through Django's default storage,
so local files and an object store behave alike (and every host sees the same bytes).

A tus chunk is an object named for the offset it starts at and its length, stored (fsync'd
on fs, confirmed by the store on s3) before the PATCH is acknowledged: the offset is read
back from the store's listing, never from a process's memory. On s3 these chunks are
only the buffer below a multipart part's size (transfers/parts.py).
"""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage

ROOT = "transfers"
_SPOOL = 8 * 2**20  # an assembled file past this size spills to disk
_READ = 2**20


def object_key(token: str) -> str:
    return f"{ROOT}/{token}"


def is_object_store() -> bool:
    return settings.CAIRN_STORAGE == "s3"


def presigned_put(key: str, *, size: int, sha256: str, expires_s: int) -> tuple[str, dict]:
    """A URL the client PUTs the bytes to, and the headers it must send. Content-Length is
    signed, so the store refuses a body of another length; a declared SHA-256 is signed
    too, as the checksum the store verifies. The sweep checks both again all the same."""
    params = {"Bucket": default_storage.bucket_name, "Key": default_storage._normalize_name(key),
              "ContentLength": size}
    headers = {"Content-Length": str(size)}
    if sha256:
        checksum = base64.b64encode(bytes.fromhex(sha256)).decode()
        params["ChecksumSHA256"] = checksum
        headers["x-amz-checksum-sha256"] = checksum
    client = default_storage.connection.meta.client
    url = client.generate_presigned_url("put_object", Params=params, ExpiresIn=expires_s,
                                        HttpMethod="PUT")
    return url, headers


def _local(key: str) -> str | None:
    """Where `key` is on local files (fs); None on an object store, where an object and a
    folder of the same name never collide."""
    return None if is_object_store() else default_storage.path(key)


def stored_size(key: str) -> int | None:
    """The size of the object under `key`, or None when nothing has arrived."""
    path = _local(key)
    if path is not None and os.path.isdir(path):
        return None  # a folder where the object belongs: no object arrived
    try:
        return default_storage.size(key)
    except FileNotFoundError:
        return None


def save(key: str, handle: IO[bytes]) -> None:
    _make_way(key)
    default_storage.save(key, File(handle))


def _make_way(key: str) -> None:
    """On fs, a folder where this file belongs, or a file where its folder belongs, holds
    nothing the session can use (an older Cairn stored a PUT to a tus upload as a file in
    its chunks' place): removed, so that the file can be stored."""
    path = _local(key)
    if path is None:
        return
    if os.path.isdir(path):
        _remove_tree(path)
    folder = os.path.dirname(path)
    if os.path.isfile(folder):
        _remove_file(folder)


def delete(key: str) -> None:
    path = _local(key)
    if path is not None and os.path.isdir(path):
        _remove_tree(path)  # a folder where the object belongs
        return
    try:
        default_storage.delete(key)
    except FileNotFoundError:
        pass


def _remove_tree(path: str) -> None:
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        pass


def _remove_file(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


# tus chunks: <folder>/<offset>-<length>, zero-padded so that names sort by offset.

def chunk_name(folder: str, *, offset: int, length: int) -> str:
    return f"{folder}/{offset:015d}-{length:015d}"


def listed(folder: str) -> list[str]:
    """The names of the files in `folder` (chunks, and whatever else is there)."""
    try:
        return default_storage.listdir(folder)[1]
    except (FileNotFoundError, NotADirectoryError):
        return []  # nothing there, or a file where the folder belongs: no chunk either way


def staged(folder: str, names: list[str]) -> list[tuple[int, int, str]]:
    """Every chunk among these names in `folder`: (offset, length, name)."""
    found = []
    for name in names:
        start, _, length = name.partition("-")
        if start.isdigit() and length.isdigit():  # not a temporary file of a save
            found.append((int(start), int(length), f"{folder}/{name}"))
    return found


def chunks(folder: str) -> list[tuple[int, int, str]]:
    """The chunks that make a contiguous run from offset 0: (offset, length, name). Two
    PATCHes racing at one offset both store bytes of the same file there, so the longer
    chunk is taken at each offset."""
    by_offset: dict[int, tuple[int, str]] = {}
    for start, length, name in staged(folder, listed(folder)):
        if length > by_offset.get(start, (-1, ""))[0]:
            by_offset[start] = (length, name)
    run, position = [], 0
    while position in by_offset:
        length, name = by_offset[position]
        run.append((position, length, name))
        position += length
    return run


def offset(folder: str) -> int:
    """How many bytes of the file are stored, as the store says."""
    run = chunks(folder)
    return run[-1][0] + run[-1][1] if run else 0


def assemble(folder: str, *, size: int) -> IO[bytes]:
    """The first `size` bytes of the chunks as one file (temporary; spooled to disk when
    large), at its start."""
    out = tempfile.SpooledTemporaryFile(max_size=_SPOOL)
    for start, _length, name in chunks(folder):
        if start >= size:
            break
        out.seek(start)
        with default_storage.open(name, "rb") as handle:
            while block := handle.read(_READ):
                out.write(block)
    out.truncate(size)
    out.seek(0)
    return out


def delete_folder(folder: str) -> None:
    path = _local(folder)
    if path is not None and os.path.isfile(path):
        _remove_file(path)  # a file where the folder belongs: all there is to remove
        return
    for _start, _length, name in chunks(folder):
        delete(name)
    for name in listed(folder):
        delete(f"{folder}/{name}")  # chunks past a gap, leftovers of a save
    if path is not None:
        try:
            folders = default_storage.listdir(folder)[0]
        except (FileNotFoundError, NotADirectoryError):
            folders = []
        for name in folders:
            _remove_tree(os.path.join(path, name))  # folders where chunks belong
