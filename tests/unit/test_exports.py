"""core.exports: Strava's activities.csv, read as exports write it."""

from core import exports


def test_first_of_repeated_columns_bom_and_folders():
    data = ("\ufeffActivity ID,Activity Name,Activity Type,Activity Description,Commute,"
            "Filename,Commute\n"
            '1,"Ride, with a comma",Ride,"two\nlines",true,activities/1.fit.gz,0.0\n'
            "2,Run,Run,,false,./activities/2.gpx,1.0\n"
            "3,Yoga,Yoga,,false,,\n").encode()
    found = exports.entries(data, member_name="export_9/activities.csv")
    assert set(found) == {"export_9/activities/1.fit.gz", "export_9/activities/2.gpx"}
    first = found["export_9/activities/1.fit.gz"]
    assert (first.activity_id, first.name, first.sport_type, first.description,
            first.commute) == ("1", "Ride, with a comma", "Ride", "two\nlines", True)
    assert found["export_9/activities/2.gpx"].commute is False  # the first Commute column


def test_lists_without_the_columns_or_text_give_nothing():
    assert exports.entries(b"Activity ID,Activity Date\n1,2026\n") == {}
    assert exports.entries(b"\xff\xfe\x00garbage") == {}
    assert exports.entries(b"") == {}


def test_a_damaged_row_keeps_what_came_before():
    huge = "x" * 200_000  # over csv's field limit
    data = (f"Activity ID,Activity Name,Filename\n1,A,a.fit\n2,\"{huge}\",b.fit\n").encode()
    assert set(exports.entries(data)) == {"a.fit"}


def test_the_list_is_found_by_its_name_in_any_folder():
    assert exports.is_list("activities.csv") and exports.is_list("export_1/Activities.csv")
    assert not exports.is_list("activities/1.csv") and not exports.is_list("activities.csv.gz")


def test_strava_activity_types_map_to_the_sports_cairn_shows():
    def entry(sport_type: str) -> exports.Entry:
        return exports.Entry(activity_id="1", name="", sport_type=sport_type, description="",
                             commute=False, file_name="a.fit")

    assert exports.sport(entry("Ride")) == "cycling"
    assert exports.sport(entry(" Virtual  Ride ")) == "cycling"
    assert exports.sport(entry("Trail Run")) == "running"
    assert exports.sport(entry("Nordic Ski")) == "cross_country_skiing"
    assert exports.sport(entry("Crossfit")) == ""  # none of Cairn's: the file's stays
