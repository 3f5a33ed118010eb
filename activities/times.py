"""When activities happened, as people read it: one rule for every page.

An activity's times are shown in its own local time zone (the summary's `timezone`, where
it began), else in the user's zone (their account setting), else in UTC and left to the
browser (static/activities/localtime.js) to show in the reader's zone. The zone is named
where it differs from the reader's; the browser hides the name when its own zone is the
activity's (a reader who never chose a zone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from activities.models import Profile


def zone(name: str | None) -> ZoneInfo | None:
    """The zone of an IANA name, or None for a blank or unknown one."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def user_zone(user) -> ZoneInfo | None:
    """The zone the user chose in their account, None until they chose one."""
    name = Profile.objects.filter(user=user).values_list("time_zone", flat=True).first()
    return zone(name)


def choices() -> list[tuple[str, str]]:
    """Every zone the system knows, for the account's list (the blank first)."""
    names = sorted(n for n in available_timezones()
                   if "/" in n and not n.startswith(("Etc/", "SystemV/", "US/")))
    return [("", "Not chosen (your browser's)"), ("UTC", "UTC"),
            *((n, n.replace("_", " ")) for n in names)]


def place(key: str) -> str:
    """A zone's name as people say it: "America/New_York" -> "New York"."""
    return key.rsplit("/", 1)[-1].replace("_", " ")


@dataclass(frozen=True)
class Moment:
    """One instant as a page shows it."""

    iso: str  #: UTC, for <time datetime>
    local: datetime  #: in the zone it is shown in
    #: The zone's name when the reader's differs ("" when it is the reader's or unknown).
    zone_note: str
    #: The zone shown in ("" when none: UTC, for the browser to convert).
    zone_key: str
    #: The reader chose no zone: the browser hides `zone_note` when its zone is this one.
    ask_browser: bool = False

    @property
    def text(self) -> str:
        """ "Sun 3 Mar 2024, 06:30" """
        return f"{self.local:%a} {self.local.day} {self.local:%b %Y, %H:%M}"

    @property
    def day(self) -> str:
        """ "3 Mar 2024" """
        return f"{self.local.day} {self.local:%b %Y}"

    @property
    def browser(self) -> bool:
        """Whether the browser should convert it to the reader's zone (no zone known)."""
        return not self.zone_key


def moment(instant: datetime | str | None, activity_zone: str | None,
           viewer: ZoneInfo | None) -> Moment | None:
    """`instant` (aware, or ISO 8601 UTC) in the activity's zone, else the viewer's."""
    if isinstance(instant, str):
        instant = datetime.fromisoformat(instant) if instant else None
    if instant is None:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    shown_in = zone(activity_zone) or viewer
    iso = instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if shown_in is None:
        return Moment(iso=iso, local=instant.astimezone(UTC), zone_note="", zone_key="")
    local = instant.astimezone(shown_in)
    differs = viewer is None or _offset(local, viewer) != local.utcoffset()
    note = f"{place(shown_in.key)} time" if differs and shown_in is not viewer else ""
    return Moment(iso=iso, local=local, zone_note=note, zone_key=shown_in.key,
                  ask_browser=viewer is None)


def _offset(local: datetime, viewer: ZoneInfo):
    return local.astimezone(viewer).utcoffset()


def local_date(instant: datetime, activity_zone: str | None, fallback: ZoneInfo | None) -> date:
    """The calendar day an instant fell on where the activity was (else in `fallback`,
    else UTC): what totals group by."""
    return instant.astimezone(zone(activity_zone) or fallback or UTC).date()
