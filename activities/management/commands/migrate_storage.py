"""`migrate_storage --to s3`: copy every stored file (originals and archives) from the
filesystem store to the object store that AWS_STORAGE_BUCKET_NAME and friends name.

Resumable and idempotent: an object the store already holds with the same length and
SHA-256 is skipped, so the command can be stopped and run again, and run once more after
the switch to CAIRN_STORAGE=s3 for what was uploaded meanwhile
(runbooks/moving-originals-to-object-storage.md). It ends by checking that every file the
database refers to is in the object store.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from activities import storage
from activities.models import Activity, Upload
from activities.objectstore import VerifiedS3Storage, digests

_PROGRESS_EVERY_S = 5.0


class Command(BaseCommand):
    help = ("Copy every original and archive from the filesystem store to the object store "
            "(resumable: what the store holds already, by SHA-256, is skipped).")

    def add_arguments(self, parser):
        parser.add_argument("--to", required=True, choices=["s3"], dest="target",
                            help="The store to copy to (the one AWS_STORAGE_BUCKET_NAME "
                                 "names).")
        parser.add_argument("--from-dir", type=Path, default=None,
                            help="The filesystem store (default: CAIRN_DATA_DIR/files).")
        parser.add_argument("--jobs", type=int, default=4,
                            help="Files copied at once (default 4).")

    def handle(self, *args, target, from_dir, jobs, **options):
        if not getattr(settings, "AWS_STORAGE_BUCKET_NAME", ""):
            raise CommandError("Set AWS_STORAGE_BUCKET_NAME (and AWS_S3_ENDPOINT_URL, "
                               "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) to the object "
                               "store to copy to.")
        source = (from_dir or settings.CAIRN_DATA_DIR / "files").resolve()
        if not source.is_dir():
            raise CommandError(f"No filesystem store at {source}.")
        target_store = VerifiedS3Storage()
        names = sorted(_stored_files(source))
        self.stdout.write(f"{len(names)} files under {source} to check against bucket "
                          f"{target_store.bucket_name!r}")
        counts = {"copied": 0, "skipped": 0}
        started = last = time.monotonic()
        try:
            with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
                for done, outcome in enumerate(
                        pool.map(lambda n: _copy(source, n, target_store), names), 1):
                    counts[outcome] += 1
                    if time.monotonic() - last >= _PROGRESS_EVERY_S or done == len(names):
                        last = time.monotonic()
                        self.stdout.write(_progress(done, len(names), counts,
                                                    last - started))
        except storage.Unavailable as error:
            raise CommandError(f"{error} Nothing is lost: run the command again to go on "
                               f"from where it stopped ({sum(counts.values())} of "
                               f"{len(names)} done).") from None
        missing = _missing(target_store, on_disk=set(names))
        if missing:
            raise CommandError(f"{len(missing)} of the files the database refers to are "
                               f"neither here nor in the object store, e.g. {missing[:5]}.")
        self.stdout.write(self.style.SUCCESS(
            f"Done: {counts['copied']} copied, {counts['skipped']} already there; every "
            "file the database refers to is in the object store."))


def _stored_files(root: Path):
    """Names (relative, with '/') of the files in a filesystem store; half-written files
    (DurableFileSystemStorage's .incoming- temporaries) are not files of the store."""
    for directory, _, files in os.walk(root):
        for file_name in files:
            if not file_name.startswith(".incoming-"):
                yield (Path(directory) / file_name).relative_to(root).as_posix()


def _copy(source: Path, name: str, target: VerifiedS3Storage) -> str:
    with open(source / name, "rb") as handle:
        size, sha256, md5 = digests(handle)
        if target.holds(name, size=size, sha256=sha256, md5=md5):
            return "skipped"
        target.save(name, File(handle, name=name))  # verified by the store: see _save
    return "copied"


def _progress(done: int, total: int, counts: dict[str, int], seconds: float) -> str:
    rate = done / seconds if seconds > 0 else 0.0
    return (f"{done}/{total}: {counts['copied']} copied, {counts['skipped']} already there "
            f"({rate:.1f} files/s)")


def _missing(target: VerifiedS3Storage, *, on_disk: set[str]) -> list[str]:
    """Files the database refers to that were not on disk here and are not in the store."""
    referred = set(Activity.objects.exclude(file_name="").values_list("file_name", flat=True))
    referred |= set(Upload.objects.exclude(file_name="").values_list("file_name", flat=True))
    return sorted(n for n in referred - on_disk if not target.exists(n))
