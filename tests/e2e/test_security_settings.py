"""Headers and settings a deployment relies on: a strict Content-Security-Policy on every
page, secure cookies, HSTS and the proxy's TLS header from the environment, and the
metrics token compared in constant time."""

from __future__ import annotations

import hmac
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests import factories

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = [*REPO.glob("activities/templates/**/*.html"),
             *REPO.glob("reconciler/templates/**/*.html")]

pytestmark = pytest.mark.django_db


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


def test_every_page_has_a_strict_content_security_policy(client, user, upload):
    activity = upload(factories.gpx()).activity
    pages = ["/login/"]
    client.force_login(user)
    pages += ["/upload/", "/activities/", f"/activities/{activity.id}/", "/settings/",
              f"/activities/{activity.id}/timeline/"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        policy = _policy(response)
        assert policy["default-src"] == "'self'", path
        assert policy["script-src"] == "'self'", path  # no inline script, no eval
        assert policy["style-src"] == "'self'", path
        assert policy["frame-ancestors"] == "'none'", path


def test_the_preview_svg_keeps_its_own_policy(api, upload):
    from reconciler import sweep

    activity = upload(factories.gpx()).activity
    sweep.drain()
    response = api.get(f"/api/v1/activities/{activity.id}/preview.svg")
    assert response.status_code == 200
    assert response["Content-Security-Policy"].startswith("default-src 'none'")


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_templates_hold_no_inline_script_or_style(template):
    html = template.read_text()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, (template, tag)
    assert "<style" not in html, template
    assert not re.search(r"\sstyle=", html), template
    assert not re.search(r"\son[a-z]+=", html), template  # onclick= and friends


def _settings_from(env: dict[str, str]) -> dict:
    code = ("import json, django; from django.conf import settings; django.setup(); "
            "print(json.dumps({k: getattr(settings, k) for k in ('SESSION_COOKIE_SECURE', "
            "'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', 'SECURE_PROXY_SSL_HEADER')}))")
    import os

    clean = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, text=True,
                         capture_output=True,
                         env={**clean, "DJANGO_SETTINGS_MODULE": "settings",
                              "CAIRN_DATA_DIR": os.environ.get("CAIRN_DATA_DIR", "/tmp"),
                              **env})
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_secure_cookies_hsts_and_the_proxy_header_come_from_the_environment():
    assert _settings_from({}) == {"SESSION_COOKIE_SECURE": False, "CSRF_COOKIE_SECURE": False,
                                  "SECURE_HSTS_SECONDS": 0, "SECURE_PROXY_SSL_HEADER": None}
    assert _settings_from({"CAIRN_SECURE_COOKIES": "1", "CAIRN_HSTS_SECONDS": "31536000",
                           "CAIRN_PROXY_SSL_HEADER": "X-Forwarded-Proto"}) == {
        "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"]}


def test_behind_the_proxy_header_the_answers_carry_hsts(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 600
    response = Client().get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response["Strict-Transport-Security"] == "max-age=600"


def test_the_metrics_token_is_compared_in_constant_time(settings, monkeypatch):
    settings.CAIRN_METRICS_TOKEN = "s3cret"
    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert Client(HTTP_AUTHORIZATION="Bearer guess").get("/metrics").status_code == 401
    assert Client(HTTP_AUTHORIZATION="Bearer s3cret").get("/metrics").status_code == 200
    assert len(compared) == 2
