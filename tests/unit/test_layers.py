"""Imports between Cairn's packages point one way, down the layers:

    core  <-  work  <-  activities, accounts  <-  transfers, records, webhooks  <-  reconciler
          <-  settings

A package imports only packages of lower layers (siblings in one layer never import each
other), so the graph has no cycle. Every import counts, at module level or inside a
function. Imports that break the rule today are listed in DEBT, each with the reason it
has not moved yet: the test fails on any other, and on a listed one that is gone (so the
list only shrinks).
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"core"}),
    frozenset({"work"}),
    frozenset({"activities", "accounts"}),
    frozenset({"transfers", "records", "webhooks"}),
    frozenset({"reconciler"}),
    frozenset({"settings"}),
)
LAYER = {package: n for n, layer in enumerate(LAYERS) for package in layer}

#: (importing file, imported package): imports that go up or sideways today.
DEBT: dict[tuple[str, str], str] = {
    # A deletion's request lives with the sweep's deletion step.
    ("activities/views/api.py", "reconciler"): "deletion.request",
    ("activities/views/pages.py", "reconciler"): "deletion.request",
    ("activities/serialize.py", "reconciler"): "rollout_state: outputs held by a rollout",
    # `serve` starts the web server, workers and schedule: an orchestration command.
    ("activities/management/commands/serve.py", "settings"): "settings.webserver",
}


def imports() -> dict[tuple[str, str], list[int]]:
    """(file, package imported) -> line numbers, for every import of another package."""
    found: dict[tuple[str, str], list[int]] = {}
    for package in LAYER:
        for path in sorted((REPO / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top in LAYER and top != package:
                        key = (str(path.relative_to(REPO)), top)
                        found.setdefault(key, []).append(node.lineno)
    return found


def wrong(importer: str, imported: str) -> bool:
    return LAYER[imported] >= LAYER[importer.split("/")[0]]


def test_every_layered_package_exists():
    assert all((REPO / package / "__init__.py").exists() for package in LAYER)


def test_imports_only_go_down_the_layers():
    bad = {key: lines for key, lines in imports().items()
           if wrong(*key) and key not in DEBT}
    assert not bad, "imports that go up or sideways:\n" + "\n".join(
        f"  {path}:{lines[0]} imports {package}" for (path, package), lines in sorted(bad.items()))


def test_the_debt_only_shrinks():
    found = imports()
    paid = [key for key in DEBT if key not in found or not wrong(*key)]
    assert not paid, f"no longer imported: remove from DEBT: {paid}"


def test_the_layers_have_no_cycle():
    # Follows from the rule (strictly down), checked on the graph itself all the same.
    graph: dict[str, set[str]] = {}
    for (path, package) in imports():
        if (path, package) not in DEBT:
            graph.setdefault(path.split("/")[0], set()).add(package)
    seen: set[str] = set()

    def visit(node: str, stack: tuple[str, ...]) -> None:
        assert node not in stack, f"cycle: {' -> '.join((*stack, node))}"
        if node in seen:
            return
        for following in graph.get(node, ()):
            visit(following, (*stack, node))
        seen.add(node)

    for node in graph:
        visit(node, ())
