"""Template filters over activities.display: `{{ a.distance_m|distance:units }}`."""

from django import template

from activities import display, sports

register = template.Library()

register.filter("distance", display.distance)
register.filter("elevation", display.elevation)
register.filter("duration", display.duration)
register.filter("start", display.start)
register.filter("sport_name", sports.name)
register.filter("sub_sport_name", sports.sub_name)
