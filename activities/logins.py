"""Throttled sign-ins: after CAIRN_LOGIN_FAILURES failures in WINDOW for one username, or
from one address, sign-ins for it are refused until the oldest failure leaves the window.

Failures are rows in the database, so every web process sees the same count. The check
sits in the authentication backend (every sign-in form, the admin's too, goes through
it); the sign-in page checks first, to say so in words with a 429. A throttled attempt
is not counted: the wait does not grow while someone keeps trying.
"""

from __future__ import annotations

import ipaddress
import math
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from activities.models import LoginFailure

WINDOW = timedelta(minutes=15)


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address: the peer's, or behind a proxy the last address in the
    header the proxy sets (CAIRN_CLIENT_IP_HEADER; the last, because a client can put
    anything before it). None when there is no valid one."""
    if request is None:
        return None
    raw = request.META.get("REMOTE_ADDR", "")
    header = settings.CAIRN_CLIENT_IP_HEADER
    if header:
        raw = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
        raw = raw.rsplit(",", 1)[-1]
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return None


def wait_s(username: str, ip: str | None, *, now: datetime) -> int | None:
    """Seconds until this username and address may try again, or None."""
    limit = settings.CAIRN_LOGIN_FAILURES
    if not limit:
        return None
    recent = LoginFailure.objects.filter(at__gt=now - WINDOW)
    waits = []
    for rows in (recent.filter(username=_key(username)),
                 recent.filter(ip=ip) if ip else None):
        if rows is None:
            continue
        times = list(rows.order_by("-at").values_list("at", flat=True)[:limit])
        if len(times) >= limit:
            waits.append(max(1, math.ceil((times[-1] + WINDOW - now).total_seconds())))
    return max(waits) if waits else None


def _key(username: str) -> str:
    return (username or "")[:150].lower()


class ThrottledBackend(ModelBackend):
    """Django's backend, refusing while the username or the address is throttled."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is not None and wait_s(username or "", client_ip(request),
                                          now=timezone.now()):
            request.cairn_login_throttled = True
            raise PermissionDenied("too many failed sign-ins")
        return super().authenticate(request, username=username, password=password,
                                    **kwargs)


@receiver(user_login_failed)
def _count_failure(sender, credentials, request=None, **kwargs) -> None:
    if request is None or getattr(request, "cairn_login_throttled", False):
        return
    now = timezone.now()
    LoginFailure.objects.filter(at__lte=now - WINDOW).delete()  # keep the table small
    LoginFailure.objects.create(username=_key(credentials.get("username", "")),
                                ip=client_ip(request), at=now)
