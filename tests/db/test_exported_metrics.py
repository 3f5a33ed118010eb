"""Every query Cairn ships (the Prometheus rules in deploy/prometheus/, the Grafana
dashboard in deploy/grafana/) names only metrics Cairn exports: what /metrics serves (every
prometheus_client metric the processes define, and every gauge the scrape reads from the
database), or a series the recording rules make."""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from reconciler.models import Worker
from tests.conftest import NOW

pytestmark = pytest.mark.django_db

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"

#: What a PromQL expression names that is not a series.
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}
#: The sample names each metric type serves under its family's name.
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"),
            "gauge": ("",), "untyped": ("",)}


def exported() -> set[str]:
    """The series names /metrics serves. A worker that swept is there, so that the
    gauges read from the database that need one are served too."""
    Worker.objects.create(id="h:1", host="h", pid=1, versions={}, started_at=NOW,
                          last_seen=NOW, last_sweep_at=NOW - timedelta(seconds=5))
    text = Client().get("/metrics").content.decode()
    return {family.name + suffix for family in text_string_to_metric_families(text)
            for suffix in SUFFIXES[family.type]}


def names_in(expr: str) -> set[str]:
    """The series an expression reads: label matchers, ranges, strings and grouping
    clauses taken out, then every name not called as a function and not a keyword."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    found = set()
    for match in re.finditer(r"(?<![\w$.])[A-Za-z_:][\w:]*", expr):
        if expr[match.end():].lstrip().startswith("(") or match.group() in KEYWORDS:
            continue
        found.add(match.group())
    return found


def rules(name: str) -> list[dict]:
    groups = yaml.safe_load((DEPLOY / "prometheus" / name).read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_queries() -> list[str]:
    board = json.loads((DEPLOY / "grafana" / "cairn.json").read_text())
    panels = [p for p in board["panels"] if p["type"] != "row"]
    queries = [target["expr"] for panel in panels for target in panel["targets"]]
    for variable in board["templating"]["list"]:  # label_values(metric, label)
        if variable["type"] == "query":
            queries.append(re.sub(r"label_values\((\w+),\s*\w+\)", r"\1",
                                  variable["query"]["query"]))
    return queries


def test_names_are_read_from_expressions():
    assert names_in('max by (kind) (delta(cairn_work_rows{state="dead"}[1h])) > 0 '
                    'and on (kind) cairn:work_rows:max or absent(up)') == {
        "cairn_work_rows", "cairn:work_rows:max", "up"}


def test_every_query_shipped_names_a_metric_cairn_exports():
    served = exported()
    recorded = {rule["record"] for rule in rules("recording.rules.yml")}
    queries = {"recording rules": [rule["expr"] for rule in rules("recording.rules.yml")],
               "alerts": [rule["expr"] for rule in rules("alerts.rules.yml")],
               "dashboard": dashboard_queries()}
    for where, exprs in queries.items():
        named = set().union(*(names_in(expr) for expr in exprs))
        assert named, where
        unknown = named - served - recorded
        assert not unknown, f"the {where} name series Cairn does not export: {unknown}"
    # A recorded series is made only from exported ones (not from another recorded one's
    # typo), and the dashboard draws the freshness objective's.
    for rule in rules("recording.rules.yml"):
        assert names_in(rule["expr"]) <= served, rule["record"]
    assert "cairn:fresh_uploads_slow:ratio_rate30d" in "".join(queries["dashboard"])
