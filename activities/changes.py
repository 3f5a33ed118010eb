"""What an owner's change (an edit, a deletion, a new time zone) owes the apps above this
one (the owner's records to rebuild, webhook events to deliver): announced inside the
transaction of the change, to the receivers those apps connect in their AppConfig.ready,
so that the outbox row and the records' flag commit with the change or not at all, and
activities need not import them."""

from __future__ import annotations

from django.dispatch import Signal

#: An owner edited one activity: `activity`, `changes` (field -> new value), `now`.
edited = Signal()

#: An owner changed their time zone: `user_id`, `now`.
zone_changed = Signal()

#: An owner changed their maximum heart rate (a training load's fallback): `user_id`, `now`.
max_hr_changed = Signal()

#: An owner revised activities (a crop, a stretch removed, a split, a restore; its new
#: part among them): `ids`, `now`. Their tracks are derived again from the revision.
revised = Signal()

#: An owner deleted activities (activities.deletion.request): `ids`, `now`.
deleted = Signal()

#: An owner merged activities into others (`merged` True) or unmerged them (False):
#: `ids` (the activities hidden or shown again), `merged`, `now`. A merged activity leaves
#: what counts (Activity.objects.counted()): the records, training and segments it
#: was in follow, like a deletion's, and come back when it is unmerged.
merged = Signal()
