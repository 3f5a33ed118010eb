"""The records endpoints' part of the OpenAPI document (settings.openapi adds it)."""

from __future__ import annotations

from core import efforts, records

_STATE = {
    "status": {"enum": ["none", "queued", "ready", "dead"],
               "description": "none: no book yet (no activity processed)."},
    "built_at": {"type": ["string", "null"], "format": "date-time"},
    "pending": {"type": "boolean", "description": "A rebuild is owed (inputs changed)."},
}
_KINDS = sorted({*efforts.RUN_DISTANCES, *efforts.RIDE_DISTANCES, *efforts.POWER_WINDOWS,
                 *records.SUMMARY_KINDS})
_NUMBER_OR_NULL = {"type": ["number", "null"]}

SCHEMAS = {
    "Records": {"type": "object", "required": ["records", "status", "built_at", "pending"],
                "properties": {**_STATE, "records": {"type": "array", "items": {
                    "type": "object",
                    "required": ["sport", "kind", "value", "unit", "activity_id",
                                 "achieved_at", "start_offset_s", "end_offset_s"],
                    "properties": {
                        "sport": {"type": "string"}, "kind": {"enum": _KINDS},
                        "value": {"type": "number"}, "unit": {"enum": ["s", "m", "W"]},
                        "activity_id": {"type": "integer"},
                        "achieved_at": {"type": ["string", "null"], "format": "date-time"},
                        "start_offset_s": _NUMBER_OR_NULL,
                        "end_offset_s": _NUMBER_OR_NULL}}}}},
    "Totals": {"type": "object", "required": ["period", "totals", "status", "built_at",
                                              "pending"],
               "properties": {**_STATE, "period": {"enum": list(records.PERIODS)},
                              "totals": {"type": "array", "items": {
                                  "type": "object",
                                  "required": ["period_start", "sport", "count", "distance_m",
                                               "moving_s", "ascent_m", "undated"],
                                  "properties": {
                                      "period_start": {"type": "string", "format": "date"},
                                      "sport": {"type": "string"},
                                      "count": {"type": "integer"},
                                      "distance_m": {"type": "number"},
                                      "moving_s": {"type": "number"},
                                      "ascent_m": {"type": "number"},
                                      "undated": {
                                          "type": "integer", "minimum": 0,
                                          "description": "How many of `count` had no "
                                          "timestamps: counted on the day they were "
                                          "uploaded. Periods are of each activity's local "
                                          "date."}}}}}},
    "RecordsTimeline": {"type": "object", "required": ["status", "why", "attempts"],
                        "properties": {**_STATE, "why": {"type": "string"},
                                       "attempts": {"type": "array",
                                                    "items": {"type": "object"}}}},
}


def paths(get, ref) -> dict:
    """The paths, built with activities.openapi's helpers (`_get`, `_ref`)."""
    png = {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}
    return {
        "/api/v1/records": get("getRecords", "The owner's records: best efforts per sport "
                               "and kind, longest, most climbing", ref("Records")),
        "/api/v1/totals": {
            "parameters": [{"name": "period", "in": "query", "required": False,
                            "schema": {"enum": list(records.PERIODS)}}],
            **get("getTotals", "Totals per ISO week, month or year, per sport",
                  ref("Totals"), extra=(400,))},
        "/api/v1/heatmap.png": {
            "parameters": [{"name": "region", "in": "query", "required": False,
                            "description": "0, 1, …: a region of the heatmap, the busiest "
                                           "first (default: the busiest)",
                            "schema": {"type": "integer", "minimum": 0}}],
            **get("getHeatmap", "Where the owner went, one region as a PNG", png,
                  extra=(400,))},
        "/api/v1/records/timeline": get("getRecordsTimeline", "Attempts to build the "
                                        "owner's records, and why they are where they are",
                                        ref("RecordsTimeline")),
    }
