"""A problem found in a series or settings file, with where it is."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from reconciler.textsafe import printable


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong (or worth a warning) in one file.

    ``file`` is the path as the user would type it (relative to the working directory when
    possible); ``line`` and ``column`` are 1-based, 0 when the problem is about the file as a
    whole. ``field`` names the API field concerned, when there is one.
    """

    file: str
    line: int
    column: int
    message: str
    severity: Severity = Severity.ERROR
    field: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def location(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"

    def __str__(self) -> str:
        # The line a terminal or a log shows: no character in it can act on the terminal.
        return printable(f"{self.location()}: {self.severity.value}: {self.message}")
