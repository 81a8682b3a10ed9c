"""The one exception tree of the reconciler.

Every error the tool raises on purpose is a ``ReconcilerError``; the CLI maps the tree to
exit codes and messages, and nothing else needs to catch anything broader::

    ReconcilerError
    ├── ConfigError                  settings file or environment variables unusable
    ├── ValidationFailed             series files have problems (carries every Problem)
    ├── StateError                   the state file is unreadable, locked or inconsistent
    │   └── StateLocked              another apply holds the environment's lock
    ├── PlanError                    a plan cannot be built or used
    │   ├── MissingSeries            ids in the state that the API did not return
    │   ├── StalePlan                a saved plan no longer matches files, live or tool
    │   │   └── PlanMismatch             the plan made again differs from the reviewed one
    │   ├── SafetyRailTripped        the apply would cross a safety rail (``--force`` lifts)
    │   └── PolicyRefused            a rule of policy.yaml refuses the plan (deny, or approve
    │                                  with no override naming it)
    └── ApiError                     anything that went wrong talking to the API
        ├── TransportError           no usable HTTP answer (connection, timeout, reset, TLS)
        ├── AmbiguousCreate          a create (POST) that may have acted: outcome unknown
        │                              answer_lost: sent, then no answer (timeout, reset)
        │                              else: an answer that does not tell (5xx, a 2xx that is
        │                              not a series); ``status`` holds it
        ├── AuthError                401/403 from the API or the token endpoint
        ├── RateLimited              429 after the retries ran out
        ├── HttpStatusError          any other non-2xx answer (status, API codes, message)
        └── BadResponse              a 2xx answer whose body is not what the API documents
            └── IncompleteListing    the org's list failed, or is not shown complete: no
                                       create may follow from it (it fails the plan)

What a failed create means, for whoever records its intent: ``AmbiguousCreate`` means the
series may exist (look it up before creating again); any other ``ApiError`` from a create
means the server did not make it (a refusal it answered, or a request that certainly never
reached it: ``TransportError`` is raised for a create only then).

Messages never contain credentials: the client redacts before it raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconciler.problems import Problem


class ReconcilerError(Exception):
    """Root of every error the reconciler raises on purpose."""


class ConfigError(ReconcilerError):
    """The settings file or the environment variables cannot be used."""


class ValidationFailed(ReconcilerError):
    """One or more series files have problems; ``problems`` holds every one of them."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        errors = sum(1 for p in self.problems if p.is_error)
        super().__init__(f"{errors} problem(s) in the series files")


class StateError(ReconcilerError):
    """The state file is unreadable, locked or inconsistent."""


class StateLocked(StateError):
    """Another apply holds the lock of this environment."""


class PlanError(ReconcilerError):
    """A plan cannot be built or used."""


@dataclass(frozen=True)
class MissingId:
    key: str
    series_id: int


class MissingSeries(PlanError):
    """Ids recorded in the state that the API did not return."""

    def __init__(self, missing: Sequence[MissingId], *, environment: str) -> None:
        self.missing = tuple(missing)
        self.environment = environment
        listed = ", ".join(f"{m.key} (id {m.series_id})" for m in self.missing)
        super().__init__(
            f"the state of environment {environment!r} records series the API did not return: "
            f"{listed}. The id may belong to another org, the credentials may lack read access, "
            "or the series was removed. Fix the credentials or the state "
            "(`reconciler state rm KEY`); the tool will not create these keys again on its own."
        )


class StalePlan(PlanError):
    """A saved plan no longer matches the files, the live series or the tool."""

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = tuple(reasons)
        super().__init__("the saved plan is stale: " + "; ".join(self.reasons))


class PlanMismatch(StalePlan):
    """The plan made again at apply time differs from the reviewed plan: nothing written.

    ``differences`` holds one line per difference ("KEY: WHAT: reviewed: X; now: Y").
    """

    def __init__(self, differences: Sequence[str]) -> None:
        self.differences = tuple(differences)
        PlanError.__init__(
            self,
            "the saved plan is stale or was edited after the review: the plan made now "
            f"differs from it in {len(self.differences)} way(s), so nothing was written: "
            + "; ".join(self.differences)
            + ". Review the plan as it is now (`reconciler plan`), then apply that one",
        )
        self.reasons = self.differences


class SafetyRailTripped(PlanError):
    """The apply would cross a safety rail; ``--force`` lifts it."""

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = tuple(reasons)
        super().__init__("refusing to apply: " + "; ".join(self.reasons))


class PolicyRefused(PlanError):
    """Rules of the policy file refuse the plan: a deny rule, or an approve rule that no
    override names (``reasons``: one line per finding, with how to lift it if it can be)."""

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = tuple(reasons)
        super().__init__("the policy refuses this plan: " + "; ".join(self.reasons))


class ApiError(ReconcilerError):
    """Anything that went wrong talking to the API."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        url: str = "",
        status: int | None = None,
        codes: Sequence[int] = (),
        api_message: str = "",
    ) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.codes = tuple(codes)
        self.api_message = api_message
        super().__init__(message)


class TransportError(ApiError):
    """No usable HTTP answer: connection refused or reset, timeout, TLS refused."""


class AmbiguousCreate(ApiError):
    """A create (POST) may have been acted on by the server; whether it was is unknown.

    Two variants: the request was sent and no answer came (``answer_lost``, ``status`` None:
    a timeout or a reset after sending), or an answer came that does not say whether the
    series was made (``status`` set: a 5xx, which a proxy may give after the backend acted,
    or a 2xx whose body is not a series). Never retried: look the series up first.
    """

    @property
    def answer_lost(self) -> bool:
        """True when no HTTP answer came at all (the transport variant)."""
        return self.status is None


class AuthError(ApiError):
    """The API refused the credentials (401/403) or the token could not be generated."""


class RateLimited(ApiError):
    """The API kept answering 429 after the retries ran out."""


class HttpStatusError(ApiError):
    """A non-2xx answer, with the API's own error codes and message."""


class BadResponse(ApiError):
    """A 2xx answer whose body is not what the API documents."""


class IncompleteListing(BadResponse):
    """The list of the org's series is not a complete success (a failure inside a 200, a
    series listed as failed, an answer that ignored its filter): it cannot tell which series
    do not exist, so nothing may be created from it."""
