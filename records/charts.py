"""The totals page's bar chart, drawn on the server as SVG: distance per period, one bar
per period (sports stacked), so the page needs no script."""

from __future__ import annotations

#: Periods shown, newest on the right.
MAX_BARS = 26
WIDTH, HEIGHT = 640, 200
#: Sports get colours in order of appearance; the rest share the last.
COLOURS = ("#c0392b", "#2471a3", "#229954", "#b9770e", "#7d3c98", "#707b7c")


def bars(totals: list[dict]) -> dict:
    """{"bars": [{x, width, label, parts: [{y, height, colour, sport, km}]}], "legend",
    "width", "height"} for the newest MAX_BARS periods of `totals`."""
    starts = sorted({t["period_start"] for t in totals})[-MAX_BARS:]
    sports = sorted({t["sport"] for t in totals})
    colour = {s: COLOURS[min(i, len(COLOURS) - 1)] for i, s in enumerate(sports)}
    by_start: dict[str, list[dict]] = {s: [] for s in starts}
    for total in totals:
        if total["period_start"] in by_start:
            by_start[total["period_start"]].append(total)
    top = max((sum(t["distance_m"] for t in group) for group in by_start.values()),
              default=0) or 1
    step = WIDTH / max(len(starts), 1)
    out = []
    for index, start in enumerate(starts):
        y = HEIGHT
        parts = []
        for total in sorted(by_start[start], key=lambda t: t["sport"]):
            height = HEIGHT * total["distance_m"] / top
            y -= height
            parts.append({"y": round(y, 1), "height": round(height, 1),
                          "colour": colour[total["sport"]], "sport": total["sport"],
                          "km": round(total["distance_m"] / 1000, 1)})
        out.append({"x": round(index * step + step * 0.1, 1), "width": round(step * 0.8, 1),
                    "label": start, "parts": parts})
    return {"bars": out, "legend": [{"sport": s, "colour": colour[s]} for s in sports],
            "width": WIDTH, "height": HEIGHT, "top_km": round(top / 1000, 1)}
