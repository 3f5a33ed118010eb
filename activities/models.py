"""What users upload and see: API tokens, uploads, activities and their derived data."""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, F, Q, When
from django.db.models.functions import Coalesce

from core.derivers import base as deriver_base
from work.models import Leased


class ApiToken(models.Model):
    """A per-user API token. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="The token's first characters, to tell "
                                                       "tokens apart without revealing them.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class Profile(models.Model):
    """A user's display preferences."""

    class Units(models.TextChoices):
        METRIC = "metric", "Metric (km, m, km/h)"
        IMPERIAL = "imperial", "Imperial (mi, ft, mph)"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="profile")
    units = models.CharField(max_length=8, choices=Units.choices, default=Units.METRIC)
    #: Heart-rate zones are fractions of this (core.zones); null until the user says.
    max_hr = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name="maximum heart rate",
        validators=[MinValueValidator(100), MaxValueValidator(240)],
        help_text="Beats per minute; heart-rate zones are fractions of it.")
    #: IANA name ("Europe/Berlin"): activities without a position are shown in it, and
    #: an activity's own zone is named where it differs. Blank: the browser's.
    time_zone = models.CharField(max_length=64, blank=True, default="", db_default="",
                                 verbose_name="time zone")

    def __str__(self) -> str:
        return f"profile of {self.user}"


class Upload(models.Model):
    """One file as a user sent it: an activity file, or a zip archive of them. The same
    content from the same owner is one upload."""

    class Kind(models.TextChoices):
        FILE = "file"
        ARCHIVE = "archive"
        #: Bytes still coming directly to the store or resumably (transfers/): the upload
        #: answers from its session until they are in, then as the upload they became.
        SESSION = "session"

    # No index of its own: upload_owner_recent begins with the owner (one index fewer
    # written per upload).
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="uploads", db_index=False)
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the (inflated) content.")
    size_bytes = models.PositiveBigIntegerField()
    # Shown to the user only: a client's file name never becomes a path.
    original_name = models.CharField(max_length=255, blank=True)
    # NULL, not "": the unique constraint must ignore uploads sent without a key.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.FILE)
    #: For a file: the activity it gave, or the existing activity it duplicated.
    activity = models.ForeignKey("Activity", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+")
    #: For an archive: its storage name (a file's original is stored with its activity).
    file_name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    #: Set when the activity this file gave was deleted: the upload is gone for its owner
    #: (the same bytes sent again make a new upload), and the deletion sweep removes it.
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "sha256"], name="upload_owner_sha256_live",
                                    condition=Q(deleted_at__isnull=True)),
            models.UniqueConstraint(fields=["owner", "idempotency_key"],
                                    condition=Q(idempotency_key__isnull=False,
                                                deleted_at__isnull=True),
                                    name="upload_owner_idempotency_key_live"),
        ]
        indexes = [
            # An owner's uploads in the last minute (activities.limits), newest first.
            models.Index(fields=["owner", "-created_at"], name="upload_owner_recent"),
            # Whether a stored archive is referred to (reconciler.operations.orphans).
            models.Index(fields=["file_name"], name="upload_archive_file",
                         condition=~Q(file_name="")),
        ]

    def __str__(self) -> str:
        return f"upload {self.pk}"


class Gear(models.Model):
    """A pair of shoes, a bike or other kit an owner's activities are done with. Its
    totals (distance, moving time, count) are kept by the training book (training/), which
    also owns its API; it lives here because an activity names it (Activity.gear)."""

    class Kind(models.TextChoices):
        SHOES = "shoes"
        BIKE = "bike"
        OTHER = "other"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="gear")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    #: The sports a new activity of which gets this gear (the oldest such, not retired).
    sports = models.JSONField(default=list, blank=True)
    retired = models.BooleanField(default=False)
    retire_at_km = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "gear"

    def __str__(self) -> str:
        return f"{self.name} ({self.kind}) of user {self.owner_id}"


class Visibility(models.TextChoices):
    PRIVATE = "private"  #: the owner alone
    UNLISTED = "unlisted"  #: whoever has the link
    PUBLIC = "public"  #: whoever has the link, and listed on the owner's public profile


class ActivityQuerySet(models.QuerySet):
    def live(self) -> ActivityQuerySet:
        """What users see: every activity not deleted (a deleted one waits for the sweep)."""
        return self.filter(deleted_at__isnull=True)

    def counted(self) -> ActivityQuerySet:
        """What lists, records, totals, the heatmap, gear, training and segments count:
        live and not merged into another activity (a merged one stays readable by its
        owner at its own address, `live()`). Its SQL twin: activities.counted.SQL."""
        return self.filter(deleted_at__isnull=True, merged_into__isnull=True)


class Activity(Leased):
    """One recorded activity and the state of its processing.

    The reconcile fields are written by the reconciler alone (ingest sets their first
    values). `needs_work` with `due_at` is the whole "is there work?" predicate: fresh,
    retrying and orphaned activities are all found by one partial index.
    """

    class Status(models.TextChoices):
        #: Waiting for a worker: new, re-synced, or retrying after a transient error.
        QUEUED = "queued"
        #: A worker holds the lease and is deriving. Never stored: read from the lease
        #: (`state`); the stored status is the last one settled.
        PROCESSING = "processing"
        #: Every deriver's output is stored at its current version.
        READY = "ready"
        #: A deriver failed permanently (corrupt or unusable file); `error_message` says why.
        FAILED = "failed"
        #: Transient errors exhausted CAIRN_MAX_ATTEMPTS; replay with `resync --dead`.
        DEAD = "dead"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="activities")
    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="activities")
    name = models.CharField(max_length=255, blank=True)
    external_id = models.CharField(max_length=255, blank=True)
    # Database defaults too, so that bulk SQL (benchmarks, imports) may leave them out.
    description = models.TextField(blank=True, default="", db_default="")
    trainer = models.BooleanField(default=False, db_default=False,
                                  help_text="Recorded on a trainer.")
    commute = models.BooleanField(default=False, db_default=False)
    format = models.CharField(max_length=8)
    sha256 = models.CharField(max_length=64)
    file_name = models.CharField(max_length=255, help_text="Storage name of the original.")
    size_bytes = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    #: When the activity began (from its summary), for lists in the order things happened.
    start_time = models.DateTimeField(null=True, blank=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)

    processed_at = models.DateTimeField(null=True, blank=True)
    #: The summary's sport (written when a round settles), for the list's filter.
    sport = models.CharField(max_length=64, blank=True, default="", db_default="")
    #: The sport the owner chose (PATCH): shown instead of the summary's, and never
    #: written by a rebuild.
    user_sport = models.CharField(max_length=64, blank=True, default="", db_default="")
    #: Deleted by its owner: hidden from every user-facing query at once (`live()`); the
    #: deletion sweep (reconciler/deletions/removal.py) removes the rows.
    deleted_at = models.DateTimeField(null=True, blank=True)
    #: What it was done with: the owner's choice (PATCH), else their default gear for its
    #: sport when it first settled (training.flags); a deleted gear leaves none.
    gear = models.ForeignKey(Gear, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="activities", db_index=False)
    #: The current revision: 0 is the original as decoded; each crop, removal, split or
    #: restore adds one (Revision). `edits` are that revision's (core.revisions), read by
    #: the track deriver; the original file is never rewritten.
    revision = models.PositiveIntegerField(default=0, db_default=0)
    edits = models.JSONField(null=True, blank=True)
    #: The activity this one was split from: it shares that one's original file; its
    #: `sha256` names its content (the original and its edits, revisions.split_sha256) so
    #: that uploading the original again still finds the first part.
    split_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="split_into", db_index=False)
    #: Probably the same outing as this one, which is kept (the duplicates check, per
    #: owner, sets and clears it; "Keep both" clears it for good): shown, not hidden.
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="probable_duplicates", db_index=False)
    #: Who besides the owner may read it (sharing): nobody, whoever has its link, or
    #: also everyone on the owner's public profile.
    visibility = models.CharField(max_length=8, choices=Visibility.choices,
                                  default=Visibility.PRIVATE, db_default=Visibility.PRIVATE)
    #: The unguessable name of its link (/s/<share_id>/) while not private; a new one
    #: each time it is shared again (activities.edits.apply).
    share_id = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001

    #: Merged by its owner into this one, the same outing kept (duplicates.merging):
    #: hidden from what counts (`counted()`), still readable at its own address and
    #: restorable (unmerge). Deleting the one kept brings it back.
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="merged", db_index=False)
    merged_at = models.DateTimeField(null=True, blank=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "activities"
        constraints = [
            # A deleted activity's content may be uploaded again at once.
            models.UniqueConstraint(fields=["owner", "sha256"], name="activity_owner_sha256_live",
                                    condition=Q(deleted_at__isnull=True)),
            # A link names one activity (/s/<share_id>/ reads through it). Partial, as are
            # the indexes of the gear, split and duplicate links below: a new upload has
            # none of them and writes no entry (BENCHMARKS.md, the acknowledgement).
            models.UniqueConstraint(fields=["share_id"], name="activity_share_id",
                                    condition=Q(share_id__isnull=False)),
        ]
        indexes = [
            # The claim: "needs work and due; fresh before backfill, oldest first"
            # (reconciler.derivation.kind.CLAIM_DUE), and drift's pending counts. Its
            # predicate names no version, so a version bump never invalidates it.
            models.Index(fields=["priority", "pending_since"], name="activity_pending",
                         include=["due_at"], condition=Q(needs_work=True)),
            # The claim shared among owners (reconciler.derivation.kind.CLAIM_DUE): the owners with
            # due work, one probe each, and each one's longest-waiting rows. Only what
            # nobody holds and is not being deleted.
            # With attempts, it also counts the unleased by state (work.drift) from the
            # index alone.
            models.Index(fields=["priority", "owner", "pending_since"], name="activity_fair",
                         include=["due_at", "attempts"],
                         condition=Q(needs_work=True, lease_token__isnull=True,
                                     deleted_at__isnull=True)),
            # Leases in flight and orphans (a lease whose holder died): the claim takes
            # expired ones first, so a rescue never waits behind a backlog of new work.
            # Small: it holds only what workers hold right now.
            models.Index(fields=["due_at"], name="activity_leased",
                         condition=Q(needs_work=True, lease_token__isnull=False)),
            # Failed and dead counts for drift and the admin's filters.
            models.Index(fields=["status"], name="activity_failed_or_dead",
                         condition=Q(status__in=["failed", "dead"])),
            # Whether a stored original is referred to (reconciler.operations.orphans).
            models.Index(fields=["file_name"], name="activity_file"),
            # The list API's keyset pages (activities/listing.py) and the list page: an
            # owner's counted activities (live, not merged), newest start first, undated
            # ones by upload time. The only index of an owner's activities in an order:
            # each one more is written by every upload (BENCHMARKS.md, the acknowledgement).
            models.Index(F("owner"), Coalesce("start_time", "created_at").desc(),
                         F("id").desc(), name="activity_owner_list",
                         condition=Q(deleted_at__isnull=True, merged_into__isnull=True)),
            # The activities merged into one (its page, a deletion's unmerge, the removal's
            # SET_NULL): partial, so that an upload (never merged) writes no entry.
            models.Index(fields=["merged_into"], name="activity_merged_into",
                         condition=Q(merged_into__isnull=False)),
            # A gear's activities (its page and totals, the deletion's SET_NULL), the parts
            # split from one and the activities probably the same as one.
            models.Index(fields=["gear"], name="activity_gear",
                         condition=Q(gear__isnull=False)),
            models.Index(fields=["split_from"], name="activity_split_from",
                         condition=Q(split_from__isnull=False)),
            models.Index(fields=["duplicate_of"], name="activity_duplicate_of",
                         condition=Q(duplicate_of__isnull=False)),
            # Deletions for the sweep to finish (reconciler.deletions.removal): normally none.
            models.Index(fields=["due_at"], name="activity_deleting",
                         condition=Q(deleted_at__isnull=False)),
            # A public profile's pages (sharing.views.profile): an owner's public
            # activities, newest first; only shared ones are in it.
            models.Index(F("owner"), Coalesce("start_time", "created_at").desc(),
                         F("id").desc(), name="activity_public_list",
                         condition=Q(deleted_at__isnull=True, visibility="public")),
        ]

    def __str__(self) -> str:
        return self.name or f"activity {self.pk}"

    @property
    def shown_sport(self) -> str | None:
        """The owner's choice, else the summary's."""
        return self.user_sport or self.sport or None

    @property
    def state(self) -> str:
        """The status as shown: `processing` while a lease is on it (an expired one too,
        until the sweep takes it over), else the stored status."""
        return self.Status.PROCESSING if self.lease_token else self.status


class Derived(models.Model):
    """One deriver's output (or permanent failure) for one activity, at a version."""

    class Status(models.TextChoices):
        #: `data` holds the output at `version`.
        READY = "ready"
        #: The deriver at `version` cannot handle this input; not retried at that version.
        FAILED = "failed"
        #: Forced re-sync: rebuild even though `version` is current (old `data` is kept).
        STALE = "stale"

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="derived")
    deriver = models.CharField(max_length=32)
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices)
    data = models.BinaryField(null=True)
    #: core.derivers.digest of `data`, written with it: what a rebuild compares so that the
    #: same bytes are not written again, and the ETag (NULL: a failure, or written before
    #: digests were kept; computed from `data` when served).
    digest = models.BinaryField(null=True, max_length=16)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    #: When `data` last changed (a rebuild to the same bytes leaves it).
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "derived data"
        constraints = [
            models.UniqueConstraint(fields=["activity", "deriver"], name="derived_one_per_kind"),
        ]
        indexes = [
            # "How many outputs of deriver D are older than version V"
            # (reconciler.operations.drift).
            models.Index(fields=["deriver", "version"], name="derived_by_version"),
            # Forced re-syncs still to do (reconciler.operations.drift "forced").
            models.Index(fields=["deriver"], name="derived_stale",
                         condition=Q(status="stale")),
        ]

    def __str__(self) -> str:
        return f"{self.deriver} v{self.version} of activity {self.activity_id}"

    @staticmethod
    def content(digest: bytes | None, version: int, updated_at) -> str:
        """What a book names an output by (records.inputs, training.inputs): its digest,
        or, for one stored before digests were kept, its version and time."""
        if digest is not None:
            return bytes(digest).hex()
        return f"{version}@{updated_at.isoformat()}"

    @staticmethod
    def contents(outputs: models.QuerySet) -> Iterator[tuple[int, str, str]]:
        """(activity id, deriver, content) of these outputs. A book reads this for every
        activity of its owner, so the time is read only where it names the output (no
        digest): parsing a timestamp was most of the cost of a row."""
        rows = (outputs.annotate(undigested_at=Case(When(digest__isnull=True,
                                                         then=F("updated_at")),
                                                    output_field=models.DateTimeField()))
                .values_list("activity_id", "deriver", "digest", "version", "undigested_at"))
        for activity_id, deriver, digest, version, undigested_at in rows:
            yield activity_id, deriver, Derived.content(digest, version, undigested_at)

    def etag(self) -> str:
        """The output's ETag: its content's digest (the same bytes, the same tag, whatever
        rebuilt them)."""
        digest = bytes(self.digest) if self.digest is not None else deriver_base.digest(
            bytes(self.data))
        return f'"{digest.hex()}"'


class Revision(models.Model):
    """One revision of an activity: the edits in force from it on (core.revisions), kept
    so that any earlier one can be restored. Revision 0, the original, has no row."""

    class Action(models.TextChoices):
        CROP = "crop"
        REMOVE = "remove"
        SPLIT = "split"
        RESTORE = "restore"
        #: Streams taken from an activity merged into this one (duplicates.merging).
        MERGE = "merge"
        #: Those streams given back when it was unmerged (or deleted).
        UNMERGE = "unmerge"

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    action = models.CharField(max_length=16, choices=Action.choices)
    edits = models.JSONField()
    #: What the action was given (seconds from the start, a revision restored).
    detail = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["activity", "number"],
                                               name="revision_number")]

    def __str__(self) -> str:
        return f"activity {self.activity_id} revision {self.number} ({self.action})"


class Archive(Leased):
    """A zip of activity files, expanded into activities a member at a time. The cursor
    moves in the same transaction that records each member, so expansion resumes after
    a crash exactly where it stopped and never imports a member twice."""

    upload = models.OneToOneField(Upload, on_delete=models.CASCADE, related_name="archive")
    members_total = models.PositiveIntegerField(null=True, blank=True)
    #: Index (in the zip's order, directories left out) of the next member to handle.
    cursor = models.PositiveIntegerField(default=0)
    #: Within an archive nested at `cursor` (a Garmin export's UploadedFiles_*.zip): how
    #: many of its members are handled; 0 until it was checked and its first one handled.
    inner_cursor = models.PositiveIntegerField(default=0)
    #: What the archive's files inflate to, nested archives' files included once they are
    #: expanded (CAIRN_ARCHIVE_MAX_INFLATED_MB holds for the sum); null: not counted yet.
    inflated_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    expanded_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)

    class Meta:
        indexes = [
            # Archives to expand (activities.expansion.kind.CLAIM_DUE).
            models.Index(fields=["priority", "pending_since"], name="archive_pending",
                         condition=Q(needs_work=True)),
        ]

    def __str__(self) -> str:
        return f"archive of upload {self.upload_id}"


class ArchiveMember(models.Model):
    """What became of one file of an archive."""

    class Status(models.TextChoices):
        #: Became a new activity (which is then processed like any upload).
        IMPORTED = "imported"
        #: The same content is already an activity of this owner (`activity`).
        DUPLICATE = "duplicate"
        #: An activity file that cannot be imported; `error_message` says why.
        FAILED = "failed"
        #: Not an activity file (other files of an export, nested archives, settings).
        SKIPPED = "skipped"
        #: Named by the export's activities.csv but not in the archive (no file: `index`
        #: counts on after the archive's own members).
        MISSING = "missing"

    archive = models.ForeignKey(Archive, on_delete=models.CASCADE, related_name="members")
    index = models.PositiveIntegerField()
    #: 0 for a file of the archive itself; n for the n-th file of the archive nested at
    #: `index` (whose own name then prefixes `name`).
    within = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=1024, help_text="As in the zip; never used as a path.")
    size_bytes = models.PositiveBigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices)
    activity = models.ForeignKey(Activity, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    #: The id of the activity the export's list gives for this file ("" when it names
    #: none): what a list matched by id or start time was applied from.
    listed_as = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["archive", "index", "within"],
                                    name="archive_member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class UploadWindow(models.Model):
    """A user's uploads in the current minute, for the rate limit (activities/limits.py):
    one conditional UPDATE of this row both checks and counts, so concurrent uploads
    cannot all slip under the limit."""

    owner = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                 primary_key=True, related_name="+")
    started_at = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.count} uploads since {self.started_at:%H:%M:%S}"


class LoginFailure(models.Model):
    """A failed sign-in, kept for the throttle's window (activities/logins.py)."""

    username = models.CharField(max_length=150)
    ip = models.GenericIPAddressField(null=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            # logins.wait_s: a user's, and an address's, recent failures.
            models.Index(fields=["username", "at"], name="loginfailure_username"),
            models.Index(fields=["ip", "at"], name="loginfailure_ip"),
        ]

    def __str__(self) -> str:
        return f"{self.username} from {self.ip} at {self.at:%H:%M:%S}"
