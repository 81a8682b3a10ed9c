"""Where a value of a series file was written, and the words problems about it are told in.

Every check of ``reconciler.files.validate`` reports through a ``Source`` (a file, its parsed
document, the path to a value), so each problem carries the file, line and column a person
fixes; ``Checked`` is one field's outcome.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.files.yamlsafe import DocPath, Document
from reconciler.model.catalogue import ABSENT
from reconciler.problems import Problem, Severity


@dataclass(frozen=True)
class Source:
    """Where a group of values was written: a file, its document, and the path in it
    (``("defaults",)`` for the settings' defaults)."""

    file: str
    document: Document
    prefix: DocPath = ()

    def problem(
        self,
        path: DocPath,
        message: str,
        *,
        severity: Severity = Severity.ERROR,
        key: bool = False,
        field: str = "",
    ) -> Problem:
        mark = self.document.where((*self.prefix, *path), key=key)
        name = field or (str(path[0]) if path else "")
        return Problem(self.file, mark.line, mark.column, message, severity, name)


@dataclass(frozen=True)
class Checked:
    """One field, checked: its API-form value (``ABSENT`` when it has an error)."""

    value: Any
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return self.value is not ABSENT


def suggest(name: str, known: Sequence[str]) -> str | None:
    """The known name closest to ``name``: a case or underscore slip first, then spelling."""
    squashed = name.replace("_", "").replace("-", "").lower()
    for candidate in known:
        if candidate.replace("_", "").lower() == squashed:
            return candidate
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return close[0] if close else None


def shown(value: Any) -> str:
    """A value as the person wrote it in YAML, more or less."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return str(value)


def enum_message(name: str, value: Any, allowed: Sequence[str]) -> str:
    """Why ``value`` is not one of ``allowed`` (with the closest), or "" when it is."""
    if isinstance(value, str) and value in allowed:
        return ""
    listed = ", ".join(allowed)
    if not isinstance(value, str):
        return f"{name} must be one of {listed}, not {shown(value)}"
    for option in allowed:
        if option.lower() == value.lower():
            return f"{name} {value!r} must be written {option} (values are case-sensitive)"
    close = difflib.get_close_matches(value.upper(), [a.upper() for a in allowed], n=1)
    hint = ""
    if close:
        hint = f": did you mean {next(a for a in allowed if a.upper() == close[0])}?"
    return f"{name} {value!r} is not one of {listed}{hint}"


__all__ = ["Checked", "Source", "enum_message", "shown", "suggest"]
