"""The README's module tree (under "Architecture") is the map newcomers read: every
module of every package is on it, and everything on it exists."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "work", "activities", "accounts", "transfers", "records", "training",
            "segments", "webhooks", "exports", "duplicates", "reconciler", "settings")
#: Files a package has for Django or Python, not worth a line of their own.
ROUTINE = {"__init__.py", "apps.py"}


def tree() -> list[str]:
    """The lines of the README's code block that maps the packages."""
    block: list[str] | None = None
    for line in (REPO / "README.md").read_text().splitlines():
        if line.startswith("```"):
            if block is not None and block and block[0].startswith("core/"):
                return block
            block = [] if block is None else None
        elif block is not None:
            block.append(line)
    raise AssertionError("README.md has no module tree (a code block starting with core/)")


def listed() -> dict[str, set[str]]:
    """Paths on the tree by package: files (`decode/fit.py`), folders (`templates/`), and
    a subpackage's files, listed indented under it (`derivation/` then `    kind.py`)."""
    found: dict[str, set[str]] = {}
    package = None
    subpackage = ""
    for line in tree():
        top = re.match(r"^(\w+)/\s", line + " ")
        if top:
            package, subpackage = top.group(1), ""
            found.setdefault(package, set())
            continue
        entry = re.match(r"^(  |    )((?:[\w./-]+(?:\.py|/))(?:, [\w./-]+(?:\.py|/))*)", line)
        if package is None or not entry:
            continue
        nested = entry.group(1) == "    "
        if not nested:
            subpackage = ""
        folder = subpackage if nested else ""
        names = entry.group(2).split(", ")
        for name in names:
            name = folder + name.strip()
            if "/" in name.rstrip("/"):
                folder = name.rstrip("/").rsplit("/", 1)[0] + "/"
                found[package].add(name)
            elif name.endswith("/"):
                found[package].add(name)
                if len(names) == 1:
                    subpackage = name  # what follows, indented, lies in it
            else:
                found[package].add(folder + name)
    return found


def modules(package: str) -> set[str]:
    root = REPO / package
    return {str(path.relative_to(root)) for path in root.rglob("*.py")
            if "migrations" not in path.parts and "__pycache__" not in path.parts}


def test_every_package_is_on_the_tree():
    assert set(PACKAGES) <= set(listed())


def test_every_module_is_on_the_tree():
    missing = []
    for package, names in listed().items():
        if package not in PACKAGES:
            continue
        # A folder stands for what it holds, unless its modules are listed under it.
        folders = [n for n in names if n.endswith("/")
                   and not any(m.startswith(n) and m != n for m in names)]
        for module in sorted(modules(package)):
            if module in names or Path(module).name in ROUTINE:
                continue
            if any(module.startswith(folder) for folder in folders):
                continue
            missing.append(f"{package}/{module}")
    assert not missing, "modules missing from README's tree: " + ", ".join(missing)


def test_everything_on_the_tree_exists():
    gone = [f"{package}/{name}" for package, names in listed().items()
            for name in names if not (REPO / package / name).exists()]
    assert not gone, "README's tree names what is not there: " + ", ".join(gone)
