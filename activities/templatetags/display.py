"""Template filters over activities.display: `{{ a.distance_m|distance:units }}`."""

from django import template

from activities import display, problems, sports

register = template.Library()

register.filter("distance", display.distance)
register.filter("elevation", display.elevation)
register.filter("duration", display.duration)
register.filter("start", display.start)
register.filter("sport_name", sports.name)
register.filter("sub_sport_name", sports.sub_name)


@register.filter
def problem(code: str | None, message: str | None) -> problems.Problem | None:
    """`{% with p=a.error_code|problem:a.error_message %}`: the error in a sentence."""
    return problems.explain(code, message)
register.filter("progress_percent", display.progress_percent)
