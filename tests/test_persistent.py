"""``PersistentMap``: every version reads as it was made, whatever was derived from it since."""

from __future__ import annotations

import copy
import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.engine.persistent import PersistentMap

KEYS = st.sampled_from("abcdefgh")
CHANGE = st.tuples(
    st.integers(min_value=0, max_value=50),  # which earlier version to derive from
    st.dictionaries(KEYS, st.integers(0, 9), max_size=3),  # put
    st.lists(KEYS, max_size=2),  # drop
)


@settings(max_examples=300, deadline=None)
@given(start=st.dictionaries(KEYS, st.integers(0, 9)), changes=st.lists(CHANGE, max_size=40))
def test_every_version_reads_as_a_dict_copy_would(
    start: dict[str, int], changes: list[tuple[int, dict[str, int], list[str]]]
) -> None:
    # The model: a plain dict copied at each change (what the state did before).
    versions = [PersistentMap(start)]
    models = [dict(start)]
    for which, put, drop in changes:
        i = which % len(versions)  # mostly the newest or an older one: both must hold
        model = {k: v for k, v in models[i].items() if k not in drop}
        model.update(put)
        versions.append(versions[i].changed(put=put, drop=drop))
        models.append(model)
        # Read some older version in between (it rebuilds itself from the newer ones).
        j = (which * 7) % len(versions)
        assert dict(versions[j]) == models[j]
    for version, model in zip(versions, models, strict=True):
        assert dict(version) == model
        assert len(version) == len(model)
        assert version == model
        for key in "abcdefgh":
            assert (key in version) == (key in model)
            assert version.get(key) == model.get(key)


def test_an_unchanged_old_version_survives_copies_and_pickles() -> None:
    old = PersistentMap({"a": 1})
    new = old.changed(put={"b": 2}, drop=["a"])
    assert pickle.loads(pickle.dumps(old)) == {"a": 1}
    assert copy.deepcopy(new) == {"b": 2}
    assert old == {"a": 1} and new == {"b": 2}
    assert repr(new) == "PersistentMap({'b': 2})"
