"""Environment values: one series file's values resolved for one environment.

A series file is read and checked once (``Template``); each environment then gets its series
by layering the settings' defaults, the environment's defaults, the file, and the file's block
for that environment (``resolve_template``), and ``Context`` checks each environment's series
together (across files, references). ``LoadResult.for_environment`` resolves another
environment later from the same templates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any, Final

from reconciler.files.validate import Source, check_across, check_field, check_series
from reconciler.model.catalogue import series_id_fields, server_defaults
from reconciler.model.desired import DesiredSeries, Reference, SeriesOptions
from reconciler.model.references import api_value, check_references
from reconciler.problems import Problem

if TYPE_CHECKING:
    from reconciler.files.settings_file import SettingsRead


@dataclass(frozen=True)
class Values:
    """Checked field values of one place in a file (its top level, or one environment's
    block), in API form; a series-id field naming keys holds its items (ids, references)."""

    values: Mapping[str, Any]
    lines: Mapping[str, int]
    invalid: frozenset[str]
    source: Source


@dataclass(frozen=True)
class Template:
    """A series file read once; ``resolve`` makes it one environment's series."""

    key: str
    file: str
    digest: str
    base: Values
    options: SeriesOptions
    overrides: Mapping[str, Values]
    ok: bool


# A checked scalar by (field, type, value) when it had no problem: what ``check_field`` makes
# of it depends on nothing else (its source only places problems), and thousands of files
# repeat the same ``discountType: PERC``. One per load; keyed by type too (1 == 1.0 == True).
CheckMemo = dict[tuple[str, type, Any], Any]
_SCALARS: Final = (str, int, float, bool, type(None))


def check_values(
    data: Mapping[Any, Any],
    source: Source,
    problems: list[Problem],
    *,
    memo: CheckMemo | None = None,
) -> Values:
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    invalid: set[str] = set()
    known = memo if memo is not None else {}
    for name, value in data.items():
        key = (name, type(value), value) if type(value) in _SCALARS else None
        if key is not None and key in known:
            values[name] = known[key]
        else:
            checked = check_field(name, value, source=source)
            problems.extend(checked.problems)
            if not checked.ok:
                invalid.add(name)
                continue
            values[name] = checked.value
            if key is not None and not checked.problems:
                known[key] = checked.value
        lines[name] = source.document.key_line((*source.prefix, name))
    return Values(values, lines, frozenset(invalid), source)


def tagged(per_env: Mapping[str, Resolution]) -> list[Problem]:
    """The problems of every environment: one found in all of them once, as it is; one
    found in only some with the environment's name in front."""
    if not per_env:
        return []
    sets = {name: set(r.problems) for name, r in per_env.items()}
    everywhere = set.intersection(*sets.values())
    out = list(everywhere)
    for name, found in sorted(sets.items()):
        out.extend(in_environment(p, name) for p in sorted(found - everywhere))
    return out


def in_environment(problem: Problem, name: str) -> Problem:
    return replace(problem, message=f"in environment {name!r}: {problem.message}")


@dataclass(frozen=True)
class Resolution:
    series: tuple[DesiredSeries, ...]
    problems: tuple[Problem, ...]
    left_out: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Context:
    """What ``LoadResult.for_environment`` needs to resolve another environment."""

    templates: tuple[Template, ...]
    settings: SettingsRead
    folder_keys: frozenset[str]
    base_problems: frozenset[Problem]
    today: date | None
    _cache: dict[tuple[str, str | None], tuple[DesiredSeries, list[Problem]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def _resolved(
        self, template: Template, environment: str | None
    ) -> tuple[DesiredSeries, list[Problem]]:
        # A file with no value of its own for this environment, under settings with none
        # either, resolves alike everywhere: checked once, however many environments.
        specific = environment is not None and (
            environment in template.overrides or environment in self.settings.environment_defaults
        )
        cache_key = (template.file, environment if specific else None)
        if cache_key not in self._cache:
            self._cache[cache_key] = resolve_template(
                template, cache_key[1], self.settings, self.today
            )
        series, found = self._cache[cache_key]
        return series, list(found)

    def resolve(self, environment: str | None) -> Resolution:
        """Each file's series in ``environment`` (None: the files as written) and the
        problems of that environment's series: their fields, across files, references."""
        problems: list[Problem] = []
        loaded: list[tuple[DesiredSeries, bool]] = []
        left_out: set[str] = set()
        for template in self.templates:
            only = template.options.only
            if environment is not None and only is not None and environment not in only:
                left_out.add(template.key)
                continue
            series, found = self._resolved(template, environment)
            problems.extend(found)
            loaded.append((series, template.ok and not any(p.is_error for p in found)))
        chosen = [s for s, _ in loaded]
        problems.extend(check_across(chosen))
        problems.extend(
            check_references(
                chosen,
                folder_keys=self.folder_keys,
                left_out=left_out,
                environment=environment or "",
            )
        )
        bad_files = {p.file for p in (*problems, *self.base_problems) if p.is_error}
        good = tuple(
            sorted((s for s, ok in loaded if ok and s.file not in bad_files), key=lambda s: s.key)
        )
        return Resolution(good, tuple(problems), frozenset(left_out))


# Most series declare the same fields: one frozenset for all of them (700 bytes a series).
_DECLARED: dict[frozenset[str], frozenset[str]] = {}


def _shared(names: frozenset[str]) -> frozenset[str]:
    if len(_DECLARED) > 4096:
        _DECLARED.clear()
    return _DECLARED.setdefault(names, names)


def resolve_template(
    template: Template, environment: str | None, settings: SettingsRead, today: date | None
) -> tuple[DesiredSeries, list[Problem]]:
    """One file's series in ``environment``: the settings' defaults, then the environment's
    defaults, then the file, then the file's block for the environment (the last wins)."""
    layers: list[Values] = []
    if settings.defaults_source is not None:
        layers.append(
            Values(settings.defaults, {}, settings.invalid_defaults, settings.defaults_source)
        )
    if environment is not None and environment in settings.environment_defaults:
        layers.append(settings.environment_defaults[environment])
    layers.append(template.base)
    if environment is not None and environment in template.overrides:
        layers.append(template.overrides[environment])
    # ``owns: all``: every documented default under every layer (no origin: no line).
    merged: dict[str, Any] = server_defaults() if template.options.owns_all else {}
    held = set(merged)
    origins: dict[str, Source] = {}
    lines: dict[str, int] = {}
    invalid: set[str] = set()
    for layer in layers:
        held.difference_update(layer.values, layer.invalid)
        for name in layer.invalid:
            merged.pop(name, None)
            invalid.add(name)
        for name, value in layer.values.items():
            merged[name] = value
            origins[name] = layer.source
            lines[name] = layer.lines.get(name, 0) if layer.source.file == template.file else 0
            invalid.discard(name)
    references: dict[str, tuple[int | Reference, ...]] = {}
    for name in series_id_fields():
        value = merged.get(name)
        if isinstance(value, tuple):  # items naming series by key (check_field)
            references[name] = value
            merged[name] = api_value(value, {})
    problems = check_series(
        merged, origins=origins, file=template.file, invalid=frozenset(invalid), today=today
    )
    fields: Mapping[str, Any] = merged
    kept_lines: Mapping[str, int] = lines
    if len(layers) == 1 and merged == layers[0].values and lines == layers[0].lines:
        # The file alone (no defaults, no block for this environment): the series keeps the
        # file's own maps, not a copy of each (8 MB at 10,000 files). Nothing changes them.
        fields, kept_lines = layers[0].values, layers[0].lines
    series = DesiredSeries(
        key=template.key,
        file=template.file,
        fields=fields,
        declared=_shared(frozenset(merged)),
        options=template.options,
        lines=kept_lines,
        digest=template.digest,
        references=references,
        held=frozenset(held),
    )
    return series, problems


__all__ = [
    "CheckMemo",
    "Context",
    "Resolution",
    "Template",
    "Values",
    "check_values",
    "in_environment",
    "resolve_template",
    "tagged",
]
