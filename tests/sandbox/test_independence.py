"""The sandbox behaves like the server, not like the tool: it shares none of the tool's code
about fields (catalogue, canonical) and none of the client's, so a wrong guess in the tool
cannot make the sandbox agree with it."""

from __future__ import annotations

import ast
from pathlib import Path

SANDBOX = Path(__file__).resolve().parents[2] / "reconciler" / "sandbox"
# What the sandbox may take from the rest of the package, and why.
ALLOWED = {
    "reconciler.model.settings",  # the names of its documented accounts
    "reconciler.model.hosts",  # what a loopback address is (it serves on loopback only)
}


def test_the_sandbox_imports_nothing_of_the_tools_field_rules() -> None:
    outside = set()
    for path in sorted(SANDBOX.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            outside |= {
                (path.name, n)
                for n in names
                if n.startswith("reconciler") and not n.startswith("reconciler.sandbox")
            }
    assert {name for _, name in outside} <= ALLOWED, sorted(outside)


def test_the_sandbox_table_knows_every_field_the_tool_may_send() -> None:
    """Names only (not values): a field the tool writes that the sandbox ignored would be a
    convergence failure the sandbox invented."""
    from reconciler.model.catalogue import FIELDS
    from reconciler.sandbox import fields

    tool = {f.name for f in FIELDS if f.writable}
    assert tool <= fields.WRITABLE, sorted(tool - fields.WRITABLE)
