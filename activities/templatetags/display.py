"""Template filters over activities.display, sports and problems:
`{{ a.distance_m|distance:units }}`, `{{ a.sport|sport_name }}`."""

from django import template

from activities import display, problems, sports

register = template.Library()

register.filter("distance", display.distance)
register.filter("elevation", display.elevation)
register.filter("duration", display.duration)
register.filter("sport_name", sports.name)
register.filter("sub_sport_name", sports.sub_name)
register.filter("progress_percent", display.progress_percent)


@register.filter
def problem(code: str | None, message: str | None) -> problems.Problem | None:
    """`{% with p=a.error_code|problem:a.error_message %}`: the error in a sentence."""
    return problems.explain(code, message)
