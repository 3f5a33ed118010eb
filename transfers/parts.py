"""A tus upload on an object store (CAIRN_STORAGE=s3): the file is assembled by the store
as a multipart upload, so any host can take the next PATCH or finish the file.

The store refuses parts under 5 MiB (but the last), and a tus client picks its own chunk
size, so every PATCH is first stored as a staging object (`<key>/<offset>-<length>`, as on
fs): that is what makes it durable before it is acknowledged. Part n always holds bytes
[(n-1)·PART_SIZE, n·PART_SIZE) of the file (the last part the rest; larger parts for a
file of more than 10 000 of them), whatever the chunks were: once staging (and parts) hold
all of a part's bytes, it is sent; once every part is in, CompleteMultipartUpload makes
the object `<key>/whole`; staging objects whose bytes parts hold are deleted.

Nothing is remembered between requests: the offset is read back from the store (staging
listing, then ListParts of the upload recorded in the session's row), as the end of what
parts and staging objects hold together from byte 0. Every step can be repeated by
whoever comes next (the next PATCH, on any host, or the sweep), so a crash between any two
leaves work, never a wrong offset:

* a part sent, its staging objects not yet deleted: the parts hold the bytes, the staging
  objects are deleted next time;
* the upload recorded, a part not yet sent: staging holds the bytes, the part is sent
  next time (a part is the same bytes whoever sends it, so sending it twice is harmless);
* an upload created but not recorded: adopted next time (it has no parts: a part is only
  sent to the recorded upload), or aborted by the sweep with the session;
* every part in, not yet assembled, or assembled but staging not deleted: the sweep (or
  the next PATCH) completes and deletes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import IO

import structlog
from django.core.files.storage import default_storage

from activities import storage
from transfers import multipart, store
from transfers.models import UploadSession

log = structlog.get_logger(__name__)

#: Every part but the last is this long (S3's smallest part), unless the file needs more
#: than MAX_PARTS of them: a function of the declared size, so every host agrees.
PART_SIZE = 5 * 2**20
MAX_PARTS = 10_000
#: The assembled file, in the session's folder.
WHOLE = "whole"


def whole(session: UploadSession) -> str:
    return f"{session.key}/{WHOLE}"


def part_size(size: int) -> int:
    return max(PART_SIZE, -(-size // MAX_PARTS))


def part_count(size: int) -> int:
    return max(1, -(-size // part_size(size)))


def part_range(number: int, size: int) -> tuple[int, int]:
    """Bytes [start, end) of the file that part `number` holds."""
    length = part_size(size)
    return (number - 1) * length, min(number * length, size)


@dataclass(frozen=True)
class Layout:
    """What the store holds of one session's file."""

    size: int
    #: Staging objects: (offset, length, name).
    chunks: list[tuple[int, int, str]] = field(default_factory=list)
    #: Parts of the recorded upload holding what they should, by number.
    parts: dict[int, multipart.Part] = field(default_factory=dict)
    upload_id: str = ""
    #: The object is assembled (the upload completed).
    assembled: bool = False

    @property
    def offset(self) -> int:
        """The end of what parts and staging hold together from byte 0."""
        if self.assembled:
            return self.size
        spans = [part_range(n, self.size) for n in self.parts]
        spans += [(start, start + length) for start, length, _name in self.chunks]
        reach = 0
        for start, end in sorted(spans):
            if start > reach:
                break
            reach = max(reach, end)
        return min(reach, self.size)

    @property
    def parts_reach(self) -> int:
        """The end of the parts in a row from part 1."""
        if self.assembled:
            return self.size
        count = 0
        while count + 1 in self.parts:
            count += 1
        return part_range(count, self.size)[1] if count else 0

    def missing(self) -> list[int]:
        """The parts not sent yet whose bytes are all stored."""
        reach = self.offset
        return [n for n in range(1, part_count(self.size) + 1)
                if n not in self.parts and part_range(n, self.size)[1] <= reach]


def read(session: UploadSession) -> Layout:
    """The session's layout as the store has it now. Staging is listed before the parts
    are: a flush in between moves bytes from staging into parts, never out of both."""
    names = store.listed(session.key)
    chunks = store.staged(session.key, names)
    # The recorded upload as the database has it now, not as this request loaded it.
    upload_id = UploadSession.objects.values_list("multipart_id", flat=True).get(
        id=session.id)
    layout = Layout(size=session.size_bytes, chunks=chunks, upload_id=upload_id)
    if WHOLE in names:
        return replace(layout, assembled=True)
    if not upload_id:
        return layout
    listed = multipart.parts(whole(session), upload_id)
    if listed is None:  # completed since the listing, or aborted
        if store.stored_size(whole(session)) is not None:
            return replace(layout, assembled=True)
        # Aborted under a live session (a lifecycle rule, an operator): its parts are
        # gone, so is the record; the next part begins a new upload.
        UploadSession.objects.filter(id=session.id, multipart_id=upload_id).update(
            multipart_id="")
        log.warning("tus.multipart_lost", session_id=session.id)
        return replace(layout, upload_id="")
    return replace(layout, parts={
        n: part for n, part in listed.items()
        if n <= part_count(session.size_bytes)
        and part.size == _length(part_range(n, session.size_bytes))})


def _length(span: tuple[int, int]) -> int:
    return span[1] - span[0]


def flush(session: UploadSession, layout: Layout, *,
          local: tuple[int, IO[bytes]] | None = None) -> Layout:
    """Send every part whose bytes are stored, assemble the file once all are in, delete
    the staging objects parts hold; returns the layout after. `local`: a chunk just
    stored, (offset, file), read from here rather than fetched back."""
    if not layout.assembled:
        todo = layout.missing()
        if todo:
            upload_id = layout.upload_id or begin(session)
            parts = dict(layout.parts)
            for number in todo:
                data = _gather(layout, local, *part_range(number, layout.size))
                send_part(whole(session), upload_id, number, data)
                # The store checked it against its MD5 before answering: it holds it.
                parts[number] = multipart.Part(number, len(data), "")
            layout = replace(layout, parts=parts, upload_id=upload_id)
        if len(layout.parts) == part_count(layout.size):
            layout = _assemble(session, layout)
    drop_staged(layout)
    return replace(layout, chunks=[c for c in layout.chunks
                                   if c[0] + c[1] > layout.parts_reach])


def begin(session: UploadSession) -> str:
    """The session's multipart upload, recorded in its row before any part is sent to it.
    One a process created but died before recording is adopted; of two created at once,
    the one recorded first is kept and the other aborted (it has no parts)."""
    name = whole(session)
    found = multipart.uploads(name)
    upload_id = found[0] if found else multipart.create(name)
    UploadSession.objects.filter(id=session.id, multipart_id="").update(
        multipart_id=upload_id)
    recorded = UploadSession.objects.values_list("multipart_id", flat=True).get(
        id=session.id)
    if recorded != upload_id:
        multipart.abort(name, upload_id)
    log.info("tus.multipart_begun", session_id=session.id)
    return recorded


def send_part(name: str, upload_id: str, number: int, data: bytes) -> None:
    multipart.upload_part(name, upload_id, number, data)


def drop_staged(layout: Layout) -> None:
    """Delete the staging objects whose bytes the parts (or the assembled file) hold."""
    reach = layout.parts_reach
    for start, length, name in layout.chunks:
        if start + length <= reach:
            store.delete(name)


def _assemble(session: UploadSession, layout: Layout) -> Layout:
    # The ETags as the store lists them (a part this request sent has none recorded).
    listed = multipart.parts(whole(session), layout.upload_id)
    numbers = range(1, part_count(layout.size) + 1)
    if listed is not None and all(n in listed for n in numbers):
        multipart.complete(whole(session), layout.upload_id, [listed[n] for n in numbers])
    if store.stored_size(whole(session)) != layout.size:
        raise storage.Unavailable(f"The store did not assemble {whole(session)} from its "
                                  "parts; the next request tries again.")
    log.info("tus.assembled", session_id=session.id, parts=len(layout.parts))
    return replace(layout, assembled=True)


def _gather(layout: Layout, local: tuple[int, IO[bytes]] | None, start: int,
            end: int) -> bytes:
    """Bytes [start, end) of the file, from the chunk just stored where it has them, else
    from staging objects (ranged GETs)."""
    out = bytearray()
    position = start
    sources = list(layout.chunks)
    while position < end:
        if local is not None and local[0] <= position:
            handle = local[1]
            handle.seek(0, 2)
            if position < local[0] + handle.tell():
                handle.seek(position - local[0])
                data = handle.read(end - position)
                out += data
                position += len(data)
                continue
        covering = [c for c in sources if c[0] <= position < c[0] + c[1]]
        if not covering:
            raise FileNotFoundError(f"byte {position} is in no staging object any more")
        chunk_start, length, name = max(covering, key=lambda c: c[0] + c[1])
        stop = min(end, chunk_start + length)
        out += multipart.read_range(name, position - chunk_start, stop - chunk_start)
        position = stop
    return bytes(out)


def discard(session: UploadSession) -> None:
    """Abort the session's multipart uploads (the recorded one, and any not recorded) and
    delete its staging objects and assembled file."""
    name = whole(session)
    recorded = UploadSession.objects.values_list("multipart_id", flat=True).get(
        id=session.id)
    for upload_id in {recorded, *multipart.uploads(name)} - {""}:
        multipart.abort(name, upload_id)
    store.delete_folder(session.key)


def open_whole(session: UploadSession) -> IO[bytes]:
    return default_storage.open(whole(session), "rb")
