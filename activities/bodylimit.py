"""Upload bodies refused before they are read: from the Content-Length the client
declares (413 before a byte of the body is read), and while streaming (a file that
passes its limit stops the read there).

The upload limit is per kind of file: an activity file may be CAIRN_MAX_UPLOAD_MB, a zip
archive CAIRN_ARCHIVE_MAX_MB. A body is refused from its head only when no file could fit
(over the larger limit); the handler below stops an activity file at the smaller one as
soon as its first bytes show it is not a zip. A body without Content-Length (chunked) is
not read at all: Django reads CONTENT_LENGTH bytes, and that is none.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

from activities import ingest, zips

#: The streaming views' marker, read by the web server (activities/bodies.py).
STREAMS_BODY = "cairn_streams_body"

#: Room for the multipart envelope around a file of the largest allowed size.
MULTIPART_SLACK = 64 * 1024


def streams_body(view: Callable) -> Callable:
    """Marks a view that takes files: it checks the token and the declared size before it
    reads its body, so the web server hands it the request at its head rather than read a
    body of up to the archive limit first (activities/bodies.py)."""
    setattr(view, STREAMS_BODY, True)
    return view


def largest_file() -> int:
    return max(ingest.max_upload_bytes(), zips.max_archive_bytes())


def declared_too_large(request: HttpRequest) -> bool:
    """The body the client announces cannot hold an acceptable file."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False  # Django reads nothing of a body whose length it cannot read
    return length > largest_file() + MULTIPART_SLACK


def too_large_message() -> str:
    return (f"The upload is larger than the limits: {ingest.max_upload_bytes() // 2**20} MB "
            f"for an activity file, {zips.max_archive_bytes() // 2**20} MB for a zip archive.")


def stopped(request: HttpRequest) -> bool:
    """Whether LimitedFiles cut this request's body off at a limit."""
    return getattr(request, "cairn_upload_stopped", False)


class LimitedFiles(FileUploadHandler):
    """First of the upload handlers: counts each file's bytes and stops the whole body at
    the file's limit, without reading the rest (the view answers 413)."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0
        self.limit = None

    def receive_data_chunk(self, raw_data, start):
        if self.limit is None:
            is_zip = raw_data[:4] == b"PK\x03\x04"
            self.limit = zips.max_archive_bytes() if is_zip else ingest.max_upload_bytes()
        self.received += len(raw_data)
        if self.received > self.limit:
            if self.request is not None:
                self.request.cairn_upload_stopped = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handlers keep the file
