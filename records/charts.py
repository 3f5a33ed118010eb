"""The totals page: a bounded run of consecutive periods (weeks, months or years, empty
ones included) paged back in time, each a bar of distance with the sports stacked, labelled
with its year ("2025", "Mar 2025", "3 Mar 2025"), in the user's units.

The bars are SVG drawn on the server (no script, no inline style: the pages' policy allows
neither); their labels are HTML, so that they stay readable when the chart shrinks."""

from __future__ import annotations

from datetime import date, timedelta

from activities import display

#: Periods on one page of the chart, the newest on the right.
BARS = 12
#: The plot's own units (viewBox): 10 per bar, 100 high; CSS stretches it to any width.
STEP, HEIGHT = 10, 100
#: Sports get colours in order of name; the rest share the last. All reach 3:1 contrast
#: against white (WCAG's for graphics).
COLOURS = ("#b91c1c", "#1d4ed8", "#15803d", "#a16207", "#7e22ce", "#4b5563")


def label(period: str, start: date) -> str:
    """A period as people name it: "2025", "Mar 2025", or a week by its Monday, "3 Mar 2025"."""
    if period == "year":
        return str(start.year)
    if period == "month":
        return start.strftime("%b %Y")
    return f"{start.day} {start:%b %Y}"


def shift(period: str, start: date, n: int) -> date:
    """The start of the period n periods after (n < 0: before) the one starting at `start`."""
    if period == "week":
        return start + timedelta(weeks=n)
    if period == "month":
        months = start.year * 12 + start.month - 1 + n
        return date(months // 12, months % 12 + 1, 1)
    return date(start.year + n, 1, 1)


def distance(metres: float, units: str) -> str:
    if units == display.IMPERIAL:
        return f"{metres / display.M_PER_MI:,.1f} mi"
    return f"{metres / 1000:,.1f} km"


def page(totals: list[dict], period: str, *, end: date | None, units: str) -> dict:
    """The chart and table of the BARS periods ending with `end` (default: the newest with
    an activity), with the `end` of the pages before and after, when there are any."""
    starts = sorted({date.fromisoformat(t["period_start"]) for t in totals})
    if not starts:
        return {"bars": [], "rows": [], "legend": [], "earlier": None, "later": None}
    newest, oldest = starts[-1], starts[0]
    # Never a page of empty periods before the first activity: the oldest page starts
    # with it (or ends with the newest, when all fit on one page).
    end = max(min(end, newest) if end else newest,
              min(shift(period, oldest, BARS - 1), newest))
    shown = [shift(period, end, i) for i in range(1 - BARS, 1)]
    sports = sorted({t["sport"] for t in totals})
    colour = {s: COLOURS[min(i, len(COLOURS) - 1)] for i, s in enumerate(sports)}
    inside = [t for t in totals if date.fromisoformat(t["period_start"]) in set(shown)]
    by_start: dict[date, list[dict]] = {s: [] for s in shown}
    for total in inside:
        by_start[date.fromisoformat(total["period_start"])].append(total)
    top = max((sum(t["distance_m"] for t in group) for group in by_start.values()),
              default=0) or 1
    bars = []
    for index, start in enumerate(shown):
        y, parts = float(HEIGHT), []
        for total in sorted(by_start[start], key=lambda t: t["sport"]):
            height = HEIGHT * total["distance_m"] / top
            y -= height
            parts.append({"y": round(y, 2), "height": round(height, 2),
                          "colour": colour[total["sport"]], "sport": total["sport"],
                          "distance": distance(total["distance_m"], units)})
        metres = sum(t["distance_m"] for t in by_start[start])
        bars.append({"x": index * STEP + 1, "label": label(period, start),
                     "short": _short(period, start), "parts": parts,
                     "distance": distance(metres, units) if metres else "—"})
    rows = [{**t, "label": label(period, date.fromisoformat(t["period_start"])),
             "distance": distance(t["distance_m"], units),
             "climb": display.elevation(t["ascent_m"], units),
             "time": display.duration(t["moving_s"])}
            for t in sorted(inside, key=lambda t: (t["period_start"], t["sport"]), reverse=True)]
    return {
        "bars": bars, "rows": rows, "top": distance(top, units),
        "legend": [{"sport": s, "colour": colour[s]} for s in sports
                   if any(t["sport"] == s for t in inside)],
        "width": BARS * STEP, "height": HEIGHT, "first": label(period, shown[0]),
        "last": label(period, shown[-1]),
        "earlier": shift(period, end, -BARS).isoformat() if oldest < shown[0] else None,
        "later": min(shift(period, end, BARS), newest).isoformat() if end < newest else None,
    }


def _short(period: str, start: date) -> list[str]:
    """The label on two short lines, for narrow bars: ["Mar", "2025"], ["3 Mar", "2025"]."""
    if period == "year":
        return [str(start.year)]
    if period == "month":
        return [f"{start:%b}", str(start.year)]
    return [f"{start.day} {start:%b}", str(start.year)]
