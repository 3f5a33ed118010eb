"""Showing records: a value in its unit, and the "New record!" note on an activity page."""

from __future__ import annotations

from django import template

from activities import display
from records import serialize
from records.models import Book

register = template.Library()

_NAMES = {"400m": "400 m", "1k": "1 km", "1mile": "1 mile", "5k": "5 km", "10k": "10 km",
          "20k": "20 km", "40k": "40 km", "half_marathon": "Half marathon",
          "marathon": "Marathon", "power_5min": "5 min power", "power_20min": "20 min power",
          "power_60min": "60 min power", "longest_distance": "Longest distance",
          "longest_time": "Longest moving time", "most_ascent": "Most climbing"}


@register.filter
def kind_name(kind: str) -> str:
    return _NAMES.get(kind, kind.replace("_", " "))


@register.filter
def record_value(record: dict, units: str = display.METRIC) -> str:
    """Seconds as h:mm:ss, distances and climbing in the user's units, watts as W."""
    value, unit = record["value"], record["unit"]
    if unit == "W":
        return f"{value:.0f} W"
    if unit == "m":
        if record["kind"] == "most_ascent":
            return display.elevation(value, units)
        return display.distance(value, units)
    return duration(value)


@register.filter
def duration(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


@register.inclusion_tag("records/new_record.html", takes_context=True)
def new_records(context, activity_id: int) -> dict:
    """The records this activity holds now ("New record!"), from the signed-in owner's
    book (the activity page is the owner's only)."""
    user = context["request"].user
    book = Book.objects.filter(user_id=user.id).defer("heat", "heatmap_png").first()
    held = [r for r in serialize.record_list(book) if r["activity_id"] == activity_id]
    return {"held": held, "units": context.get("units") or display.METRIC}
