"""The import graph runs one way, down the rooms the README draws (checked with ``ast``).

A module imports only from rooms above it in ``ROOMS`` (and from its own room), with the
exceptions named in ``SIDEWAYS`` and why. A new module must be placed in a room here (and in
the README's list) or this test fails.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "reconciler"

# In order, top to bottom of the dependency stack (the README lists the same rooms). A room is
# a folder of the package, or a few top-level modules: the folder tells a module its room.
ROOMS: dict[str, tuple[str, ...]] = {
    "base": ("reconciler", "errors", "problems", "textsafe", "safefile", "listening", "running"),
    "model": ("model",),
    "files": ("files",),
    "client": ("client",),
    "sandbox": ("sandbox",),
    "engine": ("engine",),
    "render": ("render",),
    "wiring": (
        "workspace",
        "service",
        "adopt_service",
        "import_service",
        "review_service",
        "scope_service",
        "early_service",
    ),
    "cli": ("cli", "__main__"),
}
ORDER = list(ROOMS)

# Rooms side by side that must not know each other, though one is listed above the other.
APART = {
    ("client", "files"),  # the client never reads series files; the files never call the API
    ("sandbox", "files"),  # the sandbox behaves like the server, not like our loader
    ("sandbox", "client"),  # ...nor like our client
    ("engine", "client"),  # planner and applier see the client only through protocols
    ("engine", "sandbox"),
    ("render", "files"),
    ("render", "client"),
    ("render", "sandbox"),
}
# The one place a client is built may build the in-process sandbox (see workspace.py).
SIDEWAYS = {("workspace", "sandbox")}


def room_of(module: str) -> str:
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else "reconciler"
    for room, names in ROOMS.items():
        if name in names:
            return room
    raise AssertionError(f"{module} is in no room: add it to ROOMS and the README's layers")


def imports() -> list[tuple[str, str]]:
    edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            edges += [(module, t) for t in targets if t.split(".")[0] == "reconciler"]
    return edges


def test_every_module_has_a_room() -> None:
    for module, target in imports():
        room_of(module)
        room_of(target)


def test_imports_run_down_the_rooms() -> None:
    wrong = []
    for module, target in imports():
        here, there = room_of(module), room_of(target)
        if here == there or target == "reconciler":
            continue
        name = module.split(".")[1] if "." in module else module
        if (name, there) in SIDEWAYS:
            continue
        upward = ORDER.index(there) > ORDER.index(here)
        if upward or (here, there) in APART:
            wrong.append(f"{module} ({here}) imports {target} ({there})")
    assert not wrong, "\n".join(wrong)


def test_the_readme_names_every_room_and_module() -> None:
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    modules = [
        p.relative_to(PACKAGE).with_suffix("").as_posix()
        for p in PACKAGE.rglob("*.py")
        if p.stem not in ("__init__", "__main__") and not p.stem.startswith("_")
    ]
    folders = [p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()]
    missing = [m for m in modules if f"`{m.rsplit('/', 1)[-1]}`" not in readme]
    missing += [f for f in folders if f"`{f}/`" not in readme]
    assert not missing, f"the README's layer list misses {sorted(set(missing))}"
