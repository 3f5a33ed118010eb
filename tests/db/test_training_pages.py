"""The training pages: fitness (the stored days, shown as stored; the range form; the
book's state; the empty state), the thresholds form (the API's checks, a sentence for bad
input), the power curve on the records page, the gear pages and the activity edit page's
gear. Owner only throughout: another user's gear answers 404 and their rows never show."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.test import Client
from freezegun import freeze_time

from activities import display
from activities.models import Activity, Gear, Profile
from tests.conftest import NOW
from training.models import ActivityLoad, Book, Day, Threshold

pytestmark = pytest.mark.django_db

TODAY = NOW.date()


@pytest.fixture
def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def _frozen():
    with freeze_time(NOW):
        yield


def book(user, **fields) -> Book:
    values = {"due_at": NOW, "needs_work": False, "status": Book.Status.READY,
              "built_at": NOW, "version": 1} | fields
    return Book.objects.create(user=user, **values)


def days(user, first: date, count: int, seed: int) -> list[Day]:
    """`count` days from `first` of made-up numbers (rounded as the book stores them)."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        fitness, fatigue = round(rng.uniform(0, 90), 2), round(rng.uniform(0, 120), 2)
        rows.append(Day(user=user, date=first + timedelta(days=i),
                        load=round(rng.choice([0, rng.uniform(10, 250)]), 2),
                        fitness=fitness, fatigue=fatigue, form=round(fitness - fatigue, 2),
                        fitness_state=fitness, fatigue_state=fatigue))
    return Day.objects.bulk_create(rows)


def table_rows(html: str) -> dict[str, list[str]]:
    """The fitness page's table: day -> [load, fitness, fatigue, form] as shown."""
    found = {}
    for row in re.findall(r'<tr><th scope="row">(\d{4}-\d\d-\d\d)</th>(.*?)</tr>', html):
        found[row[0]] = re.findall(r"<td[^>]*>([^<]*)</td>", row[1])
    return found


def one_place(value: float) -> str:
    """As the page rounds for people: to 0.1, halves away from zero (Django's
    floatformat)."""
    return str(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


# Fitness


def test_pages_need_a_sign_in(user):
    anonymous = Client()
    for url in ("/fitness/", "/gear/", "/gear/1/", "/gear/1/delete/"):
        answer = anonymous.get(url)
        assert answer.status_code == 302 and "/login/" in answer["Location"]
    assert anonymous.post("/fitness/thresholds/", {"kind": "ftp", "value": "250",
                                                   "from": "2025-01-01"}).status_code == 302
    assert not Threshold.objects.exists()


def test_the_fitness_page_shows_the_last_90_days_as_stored(browser, user, other_user):
    book(user)
    stored = days(user, TODAY - timedelta(days=119), 120, seed=1)
    days(other_user, TODAY - timedelta(days=119), 120, seed=2)
    html = browser.get("/fitness/").content.decode()
    shown = table_rows(html)
    expected = {d.date.isoformat(): [one_place(d.load), one_place(d.fitness),
                                     one_place(d.fatigue), one_place(d.form)]
                for d in stored if d.date > TODAY - timedelta(days=90)}
    assert shown == expected  # alice's, none of mallory's, the last 90 days
    last = max(stored, key=lambda d: d.date)
    assert (f"fitness {one_place(last.fitness)}, fatigue {one_place(last.fatigue)}, "
            f"form {one_place(last.form)}") in html
    # Three lines of one point a day; the axis spans the shown values and zero.
    shown_days = [d for d in stored if d.date > TODAY - timedelta(days=90)]
    for name in ("fitness", "fatigue", "form"):
        points = re.search(rf'<polyline class="line {name}" points="([^"]*)"', html).group(1)
        assert len(points.split()) == 90
    values = [getattr(d, n) for d in shown_days for n in ("fitness", "fatigue", "form")]
    assert f'<span class="y top">{round(max(values), 1)}</span>' in html
    assert f'<span class="y bottom">{round(min(0, *values), 1)}</span>' in html
    bars = re.findall(r"<title>(\d{4}-\d\d-\d\d): load ([\d.]+)</title>", html)
    assert bars == [(d.date.isoformat(), f"{d.load:.1f}") for d in shown_days if d.load > 0]
    assert "Up to date" in html


def test_the_fitness_range_is_chosen_with_from_and_to(browser, user):
    stored = days(user, date(2025, 1, 1), 200, seed=3)
    html = browser.get("/fitness/?from=2025-03-01&to=2025-03-10").content.decode()
    assert list(table_rows(html)) == [d.date.isoformat() for d in reversed(stored)
                                      if date(2025, 3, 1) <= d.date <= date(2025, 3, 10)]
    assert 'value="2025-03-01"' in html and 'value="2025-03-10"' in html


@pytest.mark.parametrize("query", ["from=yesterday", "to=2025-13-01",
                                   "from=2025-03-10&to=2025-03-01",
                                   "from=2000-01-01&to=2025-01-01", "to=0001-01-05",
                                   "from=%00"])
def test_a_bad_fitness_range_says_why_and_shows_the_default(browser, user, query):
    days(user, TODAY - timedelta(days=9), 10, seed=4)
    answer = browser.get(f"/fitness/?{query}")
    assert answer.status_code == 400
    html = answer.content.decode()
    assert 'role="alert"' in html and "Showing the last 90 days." in html
    assert len(table_rows(html)) == 10


def test_the_fitness_page_says_what_to_do_when_empty(browser, user):
    html = browser.get("/fitness/").content.decode()
    assert "No fitness yet" in html and "set your FTP" in html and "upload activities" in html
    assert "Nothing built yet" in html
    Threshold.objects.create(user=user, kind="ftp", value=250, effective=TODAY,
                             created_at=NOW)
    html = browser.get("/fitness/").content.decode()
    assert "No fitness yet" in html and "set your FTP" not in html


def test_the_fitness_page_says_when_the_book_is_being_rebuilt(browser, user):
    book(user, needs_work=True)
    days(user, TODAY - timedelta(days=3), 4, seed=5)
    assert "Being rebuilt" in browser.get("/fitness/").content.decode()


# Thresholds


def test_a_threshold_is_added_and_listed_and_owes_a_rebuild(browser, user):
    answer = browser.post("/fitness/thresholds/", {"kind": "ftp", "value": " 255 ",
                                                   "from": "2025-06-01"})
    assert answer.status_code == 302 and answer["Location"] == "/fitness/"
    stored = Threshold.objects.get(user=user)
    assert (stored.kind, stored.value, stored.effective) == ("ftp", 255, date(2025, 6, 1))
    assert Book.objects.get(user=user).needs_work
    html = browser.get("/fitness/").content.decode()
    assert "255 W" in html and "1 Jun 2025" in html and "rebuilt from that day on" in html


@pytest.mark.parametrize("fields", [
    {"kind": "ftp", "value": "abc", "from": "2025-01-01"},
    {"kind": "ftp", "value": "5000", "from": "2025-01-01"},
    {"kind": "ftp", "value": "", "from": "2025-01-01"},
    {"kind": "ftp", "value": "250.5", "from": "2025-01-01"},
    {"kind": "ftp", "value": "٢٥٠", "from": "2025-01-01"},  # digits, but not ASCII ones
    {"kind": "ftp", "value": "9" * 40, "from": "2025-01-01"},
    {"kind": "vo2", "value": "50", "from": "2025-01-01"},
    {"kind": "hr_max", "value": "99", "from": "2025-01-01"},
    {"kind": "ftp", "value": "250", "from": "2025-02-30"},
    {"kind": "ftp", "value": "250", "from": ""},
    {"value": "250"},
])
def test_a_bad_threshold_re_renders_the_form_with_a_sentence(browser, fields):
    answer = browser.post("/fitness/thresholds/", fields)
    assert answer.status_code == 400
    html = answer.content.decode()
    message = re.search(r'<p class="error" role="alert">([^<]+)</p>', html).group(1)
    assert message.endswith(".") and len(message.split()) > 3
    assert f'value="{fields.get("value", "")}"' in html  # what was typed stays
    assert not Threshold.objects.exists()


def test_the_threshold_form_only_posts(browser):
    assert browser.get("/fitness/thresholds/").status_code == 405


# The power curve on the records page


def test_the_records_page_shows_both_power_curves_linking_their_activities(
        browser, user, other_user, upload):
    old, new = upload().activity, upload(owner=user, data=_another_gpx()).activity
    whole = [[5, 900.0, old.id], [60, 420.5, old.id], [1200, 300.0, new.id]]
    book(user, curve=whole)
    recent = [[5, 700.0, 0], [60, 410.0, 0], [1200, 300.0, 0]]
    for activity, day, curve in ((old, TODAY - timedelta(days=200), [[5, 900.0, 0]]),
                                 (new, TODAY - timedelta(days=3), recent)):
        ActivityLoad.objects.create(user=user, activity_id=activity.id, day=day,
                                    signature={}, curve=curve)
    mallory = upload(owner=other_user).activity
    book(other_user, curve=[[5, 1234.0, mallory.id]])
    page = browser.get("/records/").content.decode()
    section = page[page.index('id="power-curve-title"'):]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', section, re.S)
    cells = {duration: re.findall(r"<td[^>]*>(.*?)</td>", rest, re.S) for duration, rest in rows}
    assert list(cells) == ["5 s", "1 min", "20 min"]
    for column, points in ((0, [(d, w, i) for d, w, i in whole]),
                           (1, [(d, w, new.id) for d, w, _ in recent])):
        for (duration, watts, held), cell in zip(points, cells.values(), strict=True):
            shown = Decimal(repr(watts)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
            assert cell[column].startswith(f"{shown} W, ") and (
                f'href="/activities/{held}/"' in cell[column]), (duration, cell)
    assert "1234" not in page and f"/activities/{mallory.id}/" not in page
    assert '<polyline class="line all"' in section and '<polyline class="line recent"' in section


def test_the_records_page_says_when_there_is_no_power_curve(browser, user):
    assert "No power curve yet" in browser.get("/records/").content.decode()


def _another_gpx() -> bytes:
    from tests import factories
    return factories.gpx(points=80)


# Gear


def gear(owner, name="Trail shoes", **fields) -> Gear:
    return Gear.objects.create(owner=owner, name=name, kind=fields.pop("kind", "shoes"),
                               created_at=NOW, **fields)


@pytest.mark.parametrize("units", ["metric", "imperial"])
def test_the_gear_page_shows_the_books_totals_in_the_users_units(browser, user, units):
    Profile.objects.create(user=user, units=units)
    shoes, bike = gear(user), gear(user, "Road bike", kind="bike", retired=True)
    book(user, gear={str(shoes.id): [3, 123_456, 36_001], str(bike.id): [1, 50, 10]})
    html = browser.get("/gear/").content.decode()
    assert display.distance(12_345.6, units) in html and display.duration(3600.1) in html
    assert display.distance(5.0, units) in html
    row = html[html.index("Road bike"):]
    assert "Retired" in row[:600] and "Put Road bike back in use" in row


@pytest.mark.parametrize(("distance_km", "warned"), [(899.9, None), (900.0, "Nearing"),
                                                     (999.9, "Nearing"), (1000.0, "Past")])
def test_gear_warns_from_90_percent_of_its_retirement_distance(
        browser, user, distance_km, warned):
    shoes = gear(user, retire_at_km=1000)
    book(user, gear={str(shoes.id): [1, round(distance_km * 10_000), 0]})
    for url in ("/gear/", f"/gear/{shoes.id}/"):
        html = browser.get(url).content.decode()
        assert ("Nearing its retirement" in html) == (warned == "Nearing")
        assert ("Past its retirement" in html) == (warned == "Past")


def test_gear_is_added_from_the_form(browser, user):
    answer = browser.post("/gear/", {"name": " Pegasus ", "kind": "shoes",
                                     "sports-shown": "1", "sports": ["running", "hiking"],
                                     "retire_at_km": "800"})
    assert answer.status_code == 302
    made = Gear.objects.get(owner=user)
    assert (made.name, made.kind, made.sports, made.retire_at_km, made.retired) == (
        "Pegasus", "shoes", ["hiking", "running"], 800, False)


@pytest.mark.parametrize("fields", [
    {"name": "", "kind": "shoes"}, {"name": "   ", "kind": "shoes"},
    {"name": "x" * 101, "kind": "shoes"}, {"name": "Bike", "kind": "car"},
    {"name": "Bike", "kind": "bike", "retire_at_km": "lots"},
    {"name": "Bike", "kind": "bike", "retire_at_km": "0"},
    {"name": "Bike", "kind": "bike", "retire_at_km": "1" * 30},
    {"name": "Bike", "kind": "bike", "sports-shown": "1", "sports": ["quidditch"]},
    {"kind": "bike"},
])
def test_bad_gear_re_renders_the_form_with_a_sentence(browser, fields):
    answer = browser.post("/gear/", fields)
    assert answer.status_code == 400
    message = re.search(r'<p class="error" role="alert">([^<]+)</p>',
                        answer.content.decode()).group(1)
    assert message.endswith(".") and len(message.split()) > 3
    assert not Gear.objects.exists()


def test_gear_is_renamed_given_sports_and_retired_and_put_back(browser, user):
    shoes = gear(user)
    answer = browser.post(f"/gear/{shoes.id}/", {
        "name": "Old shoes", "sports-shown": "1", "sports": ["running"],
        "retire_at_km": "", "retired-shown": "1", "retired": "on"})
    assert answer.status_code == 302 and answer["Location"] == f"/gear/{shoes.id}/"
    shoes.refresh_from_db()
    assert (shoes.name, shoes.sports, shoes.retire_at_km, shoes.retired) == (
        "Old shoes", ["running"], None, True)
    # The list's button: back in use, nothing else moved.
    answer = browser.post(f"/gear/{shoes.id}/", {"retired-shown": "1", "next": "list"})
    assert answer.status_code == 302 and answer["Location"] == "/gear/"
    shoes.refresh_from_db()
    assert (shoes.name, shoes.sports, shoes.retired) == ("Old shoes", ["running"], False)


def test_a_bad_edit_of_gear_re_renders_with_a_sentence(browser, user):
    shoes = gear(user)
    answer = browser.post(f"/gear/{shoes.id}/", {"name": "", "retired-shown": "1"})
    assert answer.status_code == 400
    assert re.search(r'<p class="error" role="alert">name is', answer.content.decode())
    shoes.refresh_from_db()
    assert shoes.name == "Trail shoes"


def test_another_users_gear_answers_404_everywhere(browser, other_user):
    theirs = gear(other_user)
    for url in (f"/gear/{theirs.id}/", f"/gear/{theirs.id}/delete/"):
        assert browser.get(url).status_code == 404
        assert browser.post(url, {"name": "Mine now", "retired-shown": "1"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Trail shoes" and not theirs.retired
    assert "Trail shoes" not in browser.get("/gear/").content.decode()


def test_gear_is_deleted_after_a_confirmation_and_its_activities_keep_none(
        browser, user, upload):
    shoes = gear(user)
    activity = upload().activity
    Activity.objects.filter(id=activity.id).update(gear=shoes)
    confirm = browser.get(f"/gear/{shoes.id}/delete/").content.decode()
    assert "Delete Trail shoes?" in confirm and "Its 1 activity stays" in confirm
    assert Gear.objects.filter(id=shoes.id).exists()
    answer = browser.post(f"/gear/{shoes.id}/delete/")
    assert answer.status_code == 302 and answer["Location"] == "/gear/"
    assert not Gear.objects.exists()
    assert Activity.objects.get(id=activity.id).gear_id is None
    assert Book.objects.get(user=user).needs_work


def test_a_gears_page_lists_its_activities_with_what_its_totals_counted(
        browser, user, upload):
    shoes, other = gear(user), gear(user, "Road bike", kind="bike")
    with_shoes, with_bike = upload().activity, upload(data=_another_gpx()).activity
    Activity.objects.filter(id=with_shoes.id).update(gear=shoes)
    Activity.objects.filter(id=with_bike.id).update(gear=other)
    ActivityLoad.objects.create(user=user, activity_id=with_shoes.id, day=TODAY,
                                signature={}, distance_dm=42_195, moving_ds=123_450)
    html = browser.get(f"/gear/{shoes.id}/").content.decode()
    assert f'href="/activities/{with_shoes.id}/"' in html
    assert f'href="/activities/{with_bike.id}/"' not in html
    assert display.distance(4219.5, "metric") in html and display.duration(12_345) in html


# The activity's edit page


def test_the_edit_page_offers_the_owners_gear_alone_and_sets_it(browser, user, other_user,
                                                                 upload):
    shoes, theirs = gear(user), gear(other_user, "Mallory's bike", kind="bike")
    activity = upload().activity
    url = f"/activities/{activity.id}/edit/"
    html = browser.get(url).content.decode()
    assert f'<option value="{shoes.id}">Trail shoes</option>' in html
    assert "Mallory" not in html
    fields = {"name": "Morning", "sport": "", "description": ""}
    assert browser.post(url, fields | {"gear": str(shoes.id)}).status_code == 302
    assert Activity.objects.get(id=activity.id).gear_id == shoes.id
    html = browser.get(url).content.decode()
    assert f'<option value="{shoes.id}" selected>' in html
    refused = browser.post(url, fields | {"gear": str(theirs.id)})
    assert refused.status_code == 400 and f"You have no gear {theirs.id}." in (
        refused.content.decode())
    assert browser.post(url, fields | {"gear": "shoes"}).status_code == 400
    assert Activity.objects.get(id=activity.id).gear_id == shoes.id
    assert browser.post(url, fields | {"gear": ""}).status_code == 302
    assert Activity.objects.get(id=activity.id).gear_id is None


def test_an_edit_that_keeps_the_gear_owes_the_books_nothing_for_it(browser, user, upload):
    shoes = gear(user)
    activity = upload().activity
    Activity.objects.filter(id=activity.id).update(gear=shoes)
    book(user)
    answer = browser.post(f"/activities/{activity.id}/edit/", {
        "name": "Renamed", "sport": "", "description": "", "gear": str(shoes.id)})
    assert answer.status_code == 302
    assert not Book.objects.get(user=user).needs_work


def test_the_activity_page_names_its_gear(browser, user, upload):
    activity = upload().activity
    url = f"/activities/{activity.id}/"
    assert "/gear/" not in browser.get(url).content.decode().split("<main", 1)[1]
    shoes = gear(user)
    Activity.objects.filter(id=activity.id).update(gear=shoes)
    assert f'with <a href="/gear/{shoes.id}/">Trail shoes</a>' in browser.get(url).content.decode()


def test_the_navigation_links_the_training_pages(browser):
    html = browser.get("/fitness/").content.decode()
    assert 'href="/fitness/" aria-current="page">Training' in html
    assert 'href="/gear/"' in html
