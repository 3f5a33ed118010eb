"""An archive's files as its status page lists them: each with what became of it, in
words, a page at a time (an export holds thousands)."""

from __future__ import annotations

from django.core.paginator import Page, Paginator

from activities import names, problems
from activities.models import Activity, Archive, ArchiveMember

#: Files per page of an archive's list.
PAGE_SIZE = 50
#: A file's status as its uploader reads it.
OUTCOMES = {
    ArchiveMember.Status.IMPORTED: "Imported",
    ArchiveMember.Status.DUPLICATE: "Already uploaded",
    ArchiveMember.Status.SKIPPED: "Skipped",
    ArchiveMember.Status.FAILED: "Failed",
    ArchiveMember.Status.MISSING: "Missing",
}


def files_page(archive: Archive, number: str | None) -> Page:
    """One page of the archive's files (in the zip's order), each as a dict: `name`,
    `status`, `outcome` (words), `activity_id` (a live activity, else None), `activity`
    (its name) and `reason` (a sentence, for files not imported)."""
    members = archive.members.order_by("index", "within")
    page = Paginator(members, PAGE_SIZE).get_page(number)
    rows = list(page.object_list)
    linked = {m.activity_id for m in rows if m.activity_id}
    activities = list(Activity.objects.live().filter(id__in=linked).select_related("upload"))
    shown = names.shown_all(activities, names.summaries(activities))
    failed = {a.id: a for a in activities
              if a.state in (Activity.Status.FAILED, Activity.Status.DEAD)}
    page.object_list = [_row(m, shown, failed.get(m.activity_id)) for m in rows]
    return page


def _row(member: ArchiveMember, shown: dict[int, str], failed: Activity | None) -> dict:
    """A file imported as an activity that then could not be processed is a failed file
    too, with the activity's reason (and a link: it may be reprocessed or deleted)."""
    status = member.status
    if failed is not None:
        status = ArchiveMember.Status.FAILED
        problem = problems.explain(failed.error_code, failed.error_message)
    elif status != ArchiveMember.Status.IMPORTED:
        problem = problems.explain(member.error_code, member.error_message)
    else:
        problem = None
    live = member.activity_id if member.activity_id in shown else None
    return {"name": member.name, "status": status,
            "outcome": OUTCOMES.get(status, status),
            "activity_id": live, "activity": shown.get(live, ""),
            "reason": problem.sentence if problem else ""}
