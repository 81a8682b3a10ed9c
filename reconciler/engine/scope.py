"""What a plan scoped to a change covers (``plan --changed-since REV``), as plain data. Pure.

A pull request's plan needs the org's list (identity) and the series its change touches, not
a read of every series: at 10,000 series that is 2 calls and one read instead of about 100.
Drift of the series it does not touch is the scheduled whole-org plan's to find.

- ``changed``: the keys whose files were added, changed or removed since ``since``;
- ``named``: the keys those series name (``{series: KEY}``), followed to the end, so that a
  reference resolves against the series the plan itself reads;
- ``folder_wide``: changed files that every series depends on (the settings file, with its
  defaults and ignore rules; the policy file). Any of them makes the plan the whole
  folder's: a change to shared defaults is never scoped away.

The scope travels in the plan (``Plan.scope``), so a reviewer reads what the plan covers, and
the apply of a reviewed plan rebuilds the same scope; given the revision the merge changed
from, it also checks that the reviewed scope covers what the merge changed (``uncovered``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ChangeScope:
    since: str  # the commit the change is measured from (its full id)
    changed: tuple[str, ...] = ()
    named: tuple[str, ...] = ()
    folder_wide: tuple[str, ...] = ()  # changed files every series depends on

    @property
    def whole(self) -> bool:
        """True when the plan covers every series of the folder."""
        return bool(self.folder_wide)

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys a plan of this scope covers (meaningless when ``whole``)."""
        return tuple(sorted({*self.changed, *self.named}))

    def describe(self) -> str:
        """One line for a reader: what the plan covers, and what it leaves to the schedule."""
        since = self.since[:12]
        if self.whole:
            return (
                f"{', '.join(self.folder_wide)} changed since {since}: every series depends "
                "on it, so this plan covers the whole folder."
            )
        if not self.changed:
            return f"No series file changed since {since}: this plan covers no series."
        named = f" and {len(self.named)} they name" if self.named else ""
        return (
            f"This plan covers the {len(self.changed)} series whose files changed since "
            f"{since}{named}; the scheduled plan of the whole org finds drift elsewhere."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "changed_since": self.since,
            "changed": list(self.changed),
            "named": list(self.named),
            "folder_wide": list(self.folder_wide),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ChangeScope | None:
        if data is None:
            return None
        return cls(
            since=str(data["changed_since"]),
            changed=tuple(str(k) for k in data.get("changed", ())),
            named=tuple(str(k) for k in data.get("named", ())),
            folder_wide=tuple(str(f) for f in data.get("folder_wide", ())),
        )


def uncovered(*, reviewed: ChangeScope | None, now: ChangeScope) -> list[str]:
    """What the change measured ``now`` touches that a plan of ``reviewed`` does not cover.

    ``reviewed`` None is a plan of the whole folder: it covers everything. Empty: covered.
    """
    if reviewed is None or reviewed.whole:
        return []
    if now.whole:
        return [f"{', '.join(now.folder_wide)} (every series depends on it)"]
    return sorted(set(now.keys) - set(reviewed.keys))


__all__ = ["ChangeScope", "uncovered"]
