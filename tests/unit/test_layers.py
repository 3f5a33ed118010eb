"""Imports between Cairn's packages point one way, down the layers:

    core  <-  work  <-  activities, accounts  <-  transfers, records, training, segments,
                                                  webhooks, duplicates, exports,
                                                  sharing
          <-  reconciler
          <-  settings

A package imports only packages of lower layers (siblings in one layer never import each
other), so the graph has no cycle. Every import counts, at module level or inside a
function. Where a lower package must follow a higher one, the higher one connects to it
at start-up (a signal, a handler or a source it names in its AppConfig.ready).
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"core"}),
    frozenset({"work"}),
    frozenset({"activities", "accounts"}),
    frozenset({"transfers", "records", "training", "segments", "webhooks", "duplicates",
               "exports", "sharing"}),
    frozenset({"reconciler"}),
    frozenset({"settings"}),
)
LAYER = {package: n for n, layer in enumerate(LAYERS) for package in layer}

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
    bad = {key: lines for key, lines in imports().items() if wrong(*key)}
    assert not bad, "imports that go up or sideways:\n" + "\n".join(
        f"  {path}:{lines[0]} imports {package}" for (path, package), lines in sorted(bad.items()))


def test_the_layers_have_no_cycle():
    # Follows from the rule (strictly down), checked on the graph itself all the same.
    graph: dict[str, set[str]] = {}
    for (path, package) in imports():
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
