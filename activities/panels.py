"""Panels one app adds to another's page, both of one layer (records' page shows the
training book's power curve; siblings never import each other): the app that holds the
data names a panel here at start-up (its AppConfig.ready), the page asks for its panels.

A panel is (request, **context) -> (template name, context) or None when it has nothing to
show; `context` is what the page names of itself (the activity page: activity_id), nothing on
pages about no one object."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest

Panel = Callable[..., tuple[str, dict] | None]

_panels: dict[str, dict[str, Panel]] = {}


def add(page: str, name: str, panel: Panel) -> None:
    """Show `panel` on `page` (the page's URL name); a second add of `name` replaces it."""
    _panels.setdefault(page, {})[name] = panel


def of(page: str, request: HttpRequest, **context) -> list[dict]:
    """The panels to show on `page`, in the order they were added: {"template", "context"}."""
    out = []
    for panel in _panels.get(page, {}).values():
        found = panel(request, **context)
        if found is not None:
            out.append({"template": found[0], "context": found[1]})
    return out
