"""The result of an apply: a pure value the renderers show and the CLI maps to an exit code."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from reconciler.engine.diff import FieldChange
from reconciler.engine.plan import Action, Plan


class Outcome(str, Enum):
    DONE = "done"  # the call succeeded
    SKIPPED = "skipped"  # not attempted on purpose (changed behind our back, blocked, ...)
    FAILED = "failed"  # the call failed; ``message`` says how
    NOT_STARTED = "not_started"  # the apply was interrupted before this series


@dataclass(frozen=True)
class SeriesOutcome:
    """What happened to one series of the plan.

    ``mismatches`` lists fields the server did not take as sent (before: what was sent,
    after: what the server answered), the sign of a normalisation the tool does not model.
    """

    key: str
    action: Action
    outcome: Outcome
    series_id: int | None = None
    message: str = ""
    status: int | None = None
    codes: tuple[int, ...] = ()
    mismatches: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class ApplyResult:
    environment: str
    outcomes: tuple[SeriesOutcome, ...] = ()
    # The plan made again after the last call: empty when the apply converged.
    after: Plan | None = None
    interrupted: bool = False
    # Safety rails lifted by --force, said out loud.
    forced: tuple[str, ...] = ()
    # Interrupted creates found in the CRM and adopted, or other notes for the user.
    notes: tuple[str, ...] = ()
    # Why the plan made after the apply failed ("" when it was made, or not tried).
    check_error: str = ""
    # Policy rules lifted by an override, said out loud: "rule@key: reason (by who)".
    overrides: tuple[str, ...] = ()

    def of(self, outcome: Outcome) -> tuple[SeriesOutcome, ...]:
        return tuple(o for o in self.outcomes if o.outcome is outcome)

    @property
    def converged(self) -> bool:
        return self.after is not None and not self.after.has_changes

    @property
    def ok(self) -> bool:
        """Nothing failed, nothing was left undone, and the plan afterwards is empty."""
        return (
            not self.interrupted
            and not self.of(Outcome.FAILED)
            and not self.of(Outcome.SKIPPED)
            and not self.of(Outcome.NOT_STARTED)
            and self.converged
        )
