"""The value of an environment's state: which series id each key has, the creates in flight
(intents), the fields each file declared, the keys not marked yet. Pure and immutable: each
change returns a new ``State`` sharing what did not change (``persistent``), so recording a
create is O(1). Reading and writing it on disk is ``state``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from reconciler.engine.persistent import PersistentMap

FORMAT_VERSION = 2


class IntentStatus(str, Enum):
    # Recorded before the POST; still there means the apply died before it heard back.
    PENDING = "pending"
    # The POST may have reached the server but no answer came (timeout, reset, 5xx).
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True)
class Intent:
    key: str
    status: IntentStatus
    started_at: str
    discount_code: str = ""
    description: str = ""
    detail: str = ""
    # The ids of the series with this discountCode that the org's complete list showed right
    # before the POST (None: not recorded, an intent of an older version). A series of that
    # discountCode missing from them appeared since: positive evidence for identity.
    known_before: tuple[int, ...] | None = None


@dataclass(frozen=True)
class State:
    environment: str
    ids: Mapping[str, int] = field(default_factory=dict)
    intents: Mapping[str, Intent] = field(default_factory=dict)
    # The fields each key's file declared at its last successful apply (field ownership).
    fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Keys whose series exists (its id is here) but may not carry its marker yet: a create
    # killed between its answer and the seriesCode PUT, or a series adopted by discountCode.
    # The next plan sets the marker, so a later loss of this file still finds the series.
    unmarked: frozenset[str] = frozenset()
    # Which key holds each id (built on first use, then carried from state to state).
    _owners: PersistentMap[int, str] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # Persistent maps: each change below is O(1), not a copy of every key (an apply of
        # 10,000 creates records 10,000 states).
        for name in ("ids", "intents", "fields"):
            value = getattr(self, name)
            if not isinstance(value, PersistentMap):
                object.__setattr__(self, name, PersistentMap(value))

    def _owner_map(self) -> PersistentMap[int, str]:
        if self._owners is None:
            object.__setattr__(self, "_owners", PersistentMap((v, k) for k, v in self.ids.items()))
        assert self._owners is not None
        return self._owners

    def _evolve(self, owners: PersistentMap[int, str] | None, **changes: Any) -> State:
        state = replace(self, **changes)
        object.__setattr__(state, "_owners", owners)
        return state

    def _maps(
        self,
    ) -> tuple[
        PersistentMap[str, int], PersistentMap[str, Intent], PersistentMap[str, tuple[str, ...]]
    ]:
        assert isinstance(self.ids, PersistentMap)
        assert isinstance(self.intents, PersistentMap)
        assert isinstance(self.fields, PersistentMap)
        return self.ids, self.intents, self.fields

    def key_of(self, series_id: int) -> str | None:
        return self._owner_map().get(series_id)

    def with_id(self, key: str, series_id: int) -> State:
        ids, intents, _ = self._maps()
        owners = self._owner_map()
        drop = [k for k in (owners.get(series_id),) if k is not None and k != key]
        old_id = ids.get(key)
        owners = owners.changed(
            drop=[old_id] if old_id is not None and old_id != series_id else [],
            put={series_id: key},
        )
        return self._evolve(
            owners,
            ids=ids.changed(drop=drop, put={key: series_id}),
            intents=intents.changed(drop=[key]) if key in intents else intents,
        )

    def with_intent(self, intent: Intent) -> State:
        _, intents, _ = self._maps()
        return self._evolve(self._owners, intents=intents.changed(put={intent.key: intent}))

    def without_intent(self, key: str) -> State:
        _, intents, _ = self._maps()
        if key not in intents:
            return self
        return self._evolve(self._owners, intents=intents.changed(drop=[key]))

    def without_key(self, key: str) -> State:
        ids, intents, fields = self._maps()
        owners = self._owner_map()
        old_id = ids.get(key)
        return self._evolve(
            owners.changed(drop=[old_id]) if old_id is not None else owners,
            ids=ids.changed(drop=[key]) if key in ids else ids,
            intents=intents.changed(drop=[key]) if key in intents else intents,
            fields=fields.changed(drop=[key]) if key in fields else fields,
            unmarked=self.unmarked - {key},
        )

    def with_unmarked(self, key: str, *, unmarked: bool) -> State:
        if (key in self.unmarked) == unmarked:
            return self
        keys = self.unmarked | {key} if unmarked else self.unmarked - {key}
        return self._evolve(self._owners, unmarked=frozenset(keys))

    def with_fields(self, key: str, names: tuple[str, ...]) -> State:
        _, _, fields = self._maps()
        return self._evolve(
            self._owners, fields=fields.changed(put={key: tuple(sorted(set(names)))})
        )

    def moved(self, old: str, new: str) -> State:
        series_id = self.ids[old]
        declared = self.fields.get(old)
        state = self.without_key(old).with_id(new, series_id)
        if old in self.unmarked:
            state = state.with_unmarked(new, unmarked=True)
        return state.with_fields(new, declared) if declared is not None else state

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "environment": self.environment,
            "ids": dict(sorted(self.ids.items())),
            "intents": {key: intent_dict(i) for key, i in sorted(self.intents.items())},
            "fields": {key: list(v) for key, v in sorted(self.fields.items())},
            "unmarked": sorted(self.unmarked),
        }


def intent_dict(intent: Intent) -> dict[str, Any]:
    out: dict[str, Any] = {
        "status": intent.status.value,
        "started_at": intent.started_at,
        "discount_code": intent.discount_code,
        "description": intent.description,
        "detail": intent.detail,
    }
    if intent.known_before is not None:
        out["known_before"] = list(intent.known_before)
    return out
