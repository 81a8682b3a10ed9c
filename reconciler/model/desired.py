"""The desired series: what the files say each coupon series should be."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class IgnoreRule:
    """A field whose live value the plan leaves alone, and why.

    ``source`` says where the rule was written: a series file (its path) or the settings file.
    """

    field: str
    reason: str
    source: str


@dataclass(frozen=True)
class SeriesOptions:
    """The tool's own settings for one series (the reserved ``reconciler:`` key of a file)."""

    ignore: tuple[IgnoreRule, ...] = ()
    # Plan validTillDate to the current UTC day: the reviewed way to end a series early.
    retire: bool = False
    # The environments this series exists in (None: every one). A series left out of an
    # environment is never planned there, nor reported as an orphan there.
    only: tuple[str, ...] | None = None
    # Ids of existing series with this file's discountCode that are *not* this file's series
    # (a discountCode is not unique in an org): identity no longer blocks on them, the create
    # is planned, and the new series is then known by its marker.
    distinct_from: tuple[int, ...] = ()
    # ``owns: all``: the series also declares every field with a documented server default,
    # at that default where the file writes nothing (every imported file says so).
    owns_all: bool = False


@dataclass(frozen=True)
class Reference:
    """Another series of the folder named by key in a field that holds series ids
    (``{series: summer/weekend-15}``), and where it was written."""

    key: str
    file: str = ""
    line: int = 0
    column: int = 0


@dataclass(frozen=True)
class DesiredSeries:
    """One series file, loaded, validated and turned into API form.

    ``fields`` holds API-form values (JSON carried in strings, dates as ISO strings) with the
    settings' defaults merged under the file's own values; ``declared`` is the set of fields
    this series manages (the file's and the defaults'), the only ones the plan compares.
    ``lines`` maps each field to its line in the file (0 when it comes from the defaults).
    """

    key: str
    file: str
    fields: Mapping[str, Any]
    declared: frozenset[str]
    options: SeriesOptions = SeriesOptions()
    lines: Mapping[str, int] = field(default_factory=dict)
    digest: str = ""
    # For each field holding series ids that names series by key: its items as written
    # (ids and references). ``fields`` holds the field with every reference still unresolved
    # (``references.placeholder``) until the planner resolves it for one environment.
    references: Mapping[str, tuple[int | Reference, ...]] = field(default_factory=dict)
    # The fields declared only by ``owns: all``: held at their documented default, written
    # nowhere (not in the file, not in the settings).
    held: frozenset[str] = frozenset()
