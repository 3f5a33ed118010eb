"""The shipped Prometheus rules (deploy/prometheus/): valid for promtool, every alert fired
and held quiet by its unit tests, and every alert's runbook a page that names it back.

promtool comes with Debian's `prometheus` package (.ci/run installs it). Without it the
promtool tests skip with the reason, unless CAIRN_REQUIRE_PROMTOOL=1 (set by .ci/run),
when they fail instead."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULES = sorted(DEPLOY.glob("*.rules.yml"))
UNIT_TESTS = DEPLOY / "alerts.test.yml"
REPO = DEPLOY.parents[1]


def alerts() -> list[dict]:
    groups = yaml.safe_load((DEPLOY / "alerts.rules.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


@pytest.fixture
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        reason = "promtool is not installed (apt-get install prometheus)"
        if os.environ.get("CAIRN_REQUIRE_PROMTOOL") == "1":
            pytest.fail(f"promtool tests required (CAIRN_REQUIRE_PROMTOOL=1) but {reason}")
        pytest.skip(reason)
    return found


def run(promtool: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([promtool, *args], cwd=DEPLOY, capture_output=True, text=True,
                          timeout=120, check=False)


def test_the_rules_are_valid(promtool):
    checked = run(promtool, "check", "rules", *(path.name for path in RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_alerts_unit_tests_pass(promtool):
    tested = run(promtool, "test", "rules", UNIT_TESTS.name)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_series_that_fires_it_and_one_that_does_not():
    cases = [case for test in yaml.safe_load(UNIT_TESTS.read_text())["tests"]
             for case in test.get("alert_rule_test", [])]
    for rule in alerts():
        mine = [case for case in cases if case["alertname"] == rule["alert"]]
        assert any(case["exp_alerts"] for case in mine), f"{rule['alert']} never fires"
        assert any(not case["exp_alerts"] for case in mine), f"{rule['alert']} never quiet"


def test_every_alert_names_a_runbook_that_names_it():
    for rule in alerts():
        page = rule["annotations"]["runbook_url"]
        assert page.startswith("runbooks/") and (REPO / page).is_file(), page
        assert rule["alert"] in (REPO / page).read_text(), f"{page} does not name {rule['alert']}"
        assert rule["labels"]["severity"] in ("page", "ticket")
