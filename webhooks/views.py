"""The webhooks API (v1) and Strava's push subscriptions (v3), owner-only."""

from __future__ import annotations

import json
import math
import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from activities import tokens
from activities.serialize import iso
from activities.views.api import api_error, api_view
from activities.views.strava import fault
from webhooks import destinations, events, limits, transport
from webhooks.kind import KIND
from webhooks.models import Delivery, Subscription
from work import clock
from work.models import Attempt

#: Deliveries listed per subscription, newest first.
LISTED = 100
#: Strava gives a callback two seconds to answer its challenge: all of the answer, from
#: resolving its name to the last byte (transport.request's deadline).
CHALLENGE_TIMEOUT_S = 2.0


def subscription_dict(sub: Subscription, *, secret: bool = False) -> dict:
    shown = {"id": sub.id, "url": sub.url, "events": sub.events,
             "created_at": iso(sub.created_at)}
    return {**shown, "secret": sub.secret} if secret else shown


def delivery_dict(delivery: Delivery, tries: list[Attempt]) -> dict:
    """A delivery and its tries (its attempts in the one attempt log, oldest first)."""
    return {
        "id": delivery.id, "message_id": delivery.message_id, "event": delivery.event,
        "activity_id": delivery.activity_id, "status": delivery.status,
        "attempts": len(tries),
        "created_at": iso(delivery.created_at), "delivered_at": iso(delivery.delivered_at),
        "next_attempt_at": iso(delivery.due_at) if delivery.needs_work else None,
        "last_error": delivery.last_error,
        "tries": [{"at": iso(t.started_at), "status_code": t.detail.get("status_code"),
                   "error": t.error_message, "duration_ms": t.detail.get("duration_ms", 0)}
                  for t in tries],
    }


def tries_of(deliveries: list[Delivery]) -> dict[int, list[Attempt]]:
    """The deliveries' attempts by delivery id, oldest first (one query: attempt_by_row)."""
    tries: dict[int, list[Attempt]] = {d.id: [] for d in deliveries}
    for attempt in Attempt.objects.filter(kind=KIND.name, row_id__in=list(tries)).order_by(
            "started_at", "id"):
        tries[attempt.row_id].append(attempt)
    return tries


def _checked_url(request: HttpRequest, url: object, *, resolve: bool = True) -> str:
    """The URL if it may receive events (resolved now, within the challenge's deadline,
    and again at every delivery)."""
    if not isinstance(url, str) or not url or len(url) > 2000:
        raise destinations.Refused("url is an http or https URL of at most 2000 characters.")
    target = destinations.parse(url, own_hosts=(request.get_host(),))
    if resolve:
        destinations.resolve(target, timeout_s=CHALLENGE_TIMEOUT_S)
    return url


@api_view("GET", "POST")
def webhooks(request: HttpRequest) -> JsonResponse:
    if request.method == "GET":
        subs = Subscription.objects.filter(owner=request.user, kind=Subscription.Kind.WEBHOOK)
        return JsonResponse({"webhooks": [subscription_dict(s) for s in subs.order_by("id")]})
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        return api_error("BadRequest", 'Send a JSON object {"url": ..., "events": [...]}.', 400)
    wanted = body.get("events")
    if (not isinstance(wanted, list) or not wanted
            or not all(isinstance(e, str) and e in events.ALL for e in wanted)):
        return api_error("BadRequest", "events is a non-empty list of " +
                         ", ".join(events.ALL) + ".", 400)
    try:
        limits.check_webhooks(request.user)  # before the URL is resolved: it costs
        url = _checked_url(request, body.get("url"))
        with transaction.atomic():
            limits.check_webhooks(request.user, lock=True)  # again, to count
            sub = Subscription.objects.create(owner=request.user, url=url,
                                              events=sorted(set(wanted), key=events.ALL.index),
                                              secret=events.new_secret(), created_at=clock.now())
    except destinations.Refused as refused:
        return api_error("BadRequest", str(refused), 400)
    except limits.TooMany as too_many:
        return api_error("TooManyWebhooks", str(too_many), 409)
    response = JsonResponse(subscription_dict(sub, secret=True), status=201)
    response["Cache-Control"] = "no-store"  # the signing secret, shown this once
    return response


def _own(request: HttpRequest, sub_id: int, kind: str) -> Subscription | None:
    return Subscription.objects.filter(id=sub_id, owner=request.user, kind=kind).first()


@api_view("GET", "DELETE")
def webhook_detail(request: HttpRequest, webhook_id: int) -> HttpResponse:
    sub = _own(request, webhook_id, Subscription.Kind.WEBHOOK)
    if sub is None:
        return api_error("NotFound", f"No webhook {webhook_id}.", 404)
    if request.method == "DELETE":
        # Its deliveries go with it (nobody is left to receive them), and their tries.
        Attempt.objects.filter(kind=KIND.name, row_id__in=sub.deliveries.values("id")).delete()
        sub.delete()
        return HttpResponse(status=204)
    return JsonResponse(subscription_dict(sub))


@api_view("GET")
def webhook_deliveries(request: HttpRequest, webhook_id: int) -> JsonResponse:
    sub = _own(request, webhook_id, Subscription.Kind.WEBHOOK)
    if sub is None:
        return api_error("NotFound", f"No webhook {webhook_id}.", 404)
    rows = list(Delivery.objects.filter(subscription=sub).order_by("-created_at", "-id")
                [:LISTED])
    tries = tries_of(rows)
    return JsonResponse({"deliveries": [delivery_dict(d, tries[d.id]) for d in rows]})


# --- Strava's push subscriptions -----------------------------------------------------------


def _strava_user(request: HttpRequest):
    """Strava's endpoint is the application's (client_id, client_secret): here the
    client_secret is a Cairn API token, or a Bearer header / access_token as elsewhere."""
    scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
    token = ((bearer.strip() if scheme.lower() == "bearer" else "")
             or request.GET.get("access_token", "") or request.GET.get("client_secret", "")
             or (request.POST.get("client_secret", "") if request.method == "POST" else ""))
    return tokens.authenticate(token)


def _strava_dict(sub: Subscription) -> dict:
    return {"id": sub.id, "resource_state": 2, "application_id": sub.owner_id,
            "callback_url": sub.url, "created_at": iso(sub.created_at),
            "updated_at": iso(sub.created_at)}


@csrf_exempt  # token-authenticated: no cookies, so no cross-site forgery
def push_subscriptions(request: HttpRequest, subscription_id: int | None = None):
    allowed = ("DELETE",) if subscription_id is not None else ("GET", "POST")
    if request.method not in allowed:
        return fault("Method Not Allowed", resource="PushSubscription", field="method",
                     code="invalid", status=405)
    user = _strava_user(request)
    if user is None:
        return fault("Authorization Error", resource="Application", field="client_secret",
                     code="invalid", status=401)
    subs = Subscription.objects.filter(owner=user, kind=Subscription.Kind.STRAVA)
    if request.method == "GET":
        return JsonResponse([_strava_dict(s) for s in subs.order_by("id")], safe=False)
    if request.method == "DELETE":
        if not subs.filter(id=subscription_id).delete()[0]:
            return fault("Resource Not Found", resource="PushSubscription", field="id",
                         code="not found", status=404)
        return HttpResponse(status=204)
    return _subscribe(request, user, subs)


def _subscribe(request: HttpRequest, user, subs) -> JsonResponse:
    """Strava's create: the callback must echo hub.challenge before the subscription is
    made (one per application, as Strava has it)."""
    url = request.POST.get("callback_url") or request.GET.get("callback_url", "")
    verify_token = request.POST.get("verify_token") or request.GET.get("verify_token", "")
    if subs.exists():
        return fault("Bad Request", resource="PushSubscription", field="callback_url",
                     code="already exists", status=400)
    try:
        # The request resolves the name (and refuses it) within the challenge's deadline.
        target = destinations.parse(_checked_url(request, url, resolve=False),
                                    own_hosts=(request.get_host(),))
    except destinations.Refused as refused:
        return fault(f"Bad Request: {refused}", resource="PushSubscription",
                     field="callback_url", code="invalid", status=400)
    challenge = secrets.token_hex(8)
    query = urlencode({"hub.mode": "subscribe", "hub.challenge": challenge,
                       "hub.verify_token": verify_token})
    path = target.path + ("&" if "?" in target.path else "?") + query
    try:
        with limits.challenge_slot(user):
            answer = transport.request(
                "GET", destinations.Target(target.scheme, target.host, target.port, path),
                timeout_s=min(CHALLENGE_TIMEOUT_S, settings.CAIRN_WEBHOOK_TIMEOUT_S * 4))
    except destinations.Refused as refused:
        return fault(f"Bad Request: {refused}", resource="PushSubscription",
                     field="callback_url", code="invalid", status=400)
    except limits.TooMany as too_many:
        busy = fault(f"Too Many Requests: {too_many}", resource="PushSubscription",
                     field="callback_url", code="rate limited", status=429)
        busy["Retry-After"] = str(math.ceil(CHALLENGE_TIMEOUT_S))
        return busy
    if answer.status != 200 or _echoed(answer.body) != challenge:
        return fault("Bad Request", resource="PushSubscription", field="callback url",
                     code="GET to callback URL does not return 200", status=400)
    sub = Subscription.objects.create(owner=user, kind=Subscription.Kind.STRAVA, url=url,
                                      events=list(events.STRAVA_ASPECTS),
                                      secret=events.new_secret(), verify_token=verify_token,
                                      created_at=clock.now())
    return JsonResponse({"id": sub.id}, status=201)


def _echoed(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return data.get("hub.challenge") if isinstance(data, dict) else None
