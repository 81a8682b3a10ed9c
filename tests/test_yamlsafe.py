"""The safe, bounded, line-aware YAML loader."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.files.yamlsafe import MAX_NODES, Mark, load_yaml


def _load(text: str | bytes) -> object:
    data = text.encode() if isinstance(text, str) else text
    return load_yaml(data, file="f.yaml")


def test_marks_of_keys_and_values_by_path() -> None:
    loaded = load_yaml(
        b"description: x\nproductInfo:\n  - productType: SKU\n    productIds: [1, 2]\n",
        file="f.yaml",
    )
    assert loaded.ok and loaded.document is not None
    doc = loaded.document
    assert doc.data["productInfo"][0]["productIds"] == [1, 2]
    assert doc.where(("productInfo", 0, "productType"), key=True) == Mark(3, 5)
    assert doc.where(("productInfo", 0, "productType")) == Mark(3, 18)
    assert doc.where(("productInfo", 0, "productIds", 1)) == Mark(4, 21)
    # A path that is not in the document falls back to its nearest part.
    assert doc.where(("productInfo", 0, "nothing")) == Mark(3, 5)


def test_a_duplicate_key_names_both_lines() -> None:
    loaded = load_yaml(b"a: 1\nb: 2\na: 3\n", file="f.yaml")
    (problem,) = loaded.problems
    assert (problem.line, problem.column) == (3, 1)
    assert "lines 1 and 3" in problem.message
    assert not loaded.ok


def test_duplicates_are_found_in_nested_mappings() -> None:
    loaded = load_yaml(b"t:\n  x: 1\n  x: 2\n", file="f.yaml")
    assert [p.line for p in loaded.problems] == [3]


def test_timestamps_stay_text_and_scalars_are_json_like() -> None:
    loaded = load_yaml(
        b"d: 2025-12-31\nt: 2025-12-31T10:00:00+05:30\ni: 0x10\nf: 1.5\nb: true\nn: null\n",
        file="f.yaml",
    )
    assert loaded.document is not None
    assert loaded.document.data == {
        "d": "2025-12-31",
        "t": "2025-12-31T10:00:00+05:30",
        "i": 16,
        "f": 1.5,
        "b": True,
        "n": None,
    }


def test_keys_are_the_text_written() -> None:
    loaded = load_yaml(b"1: a\nyes: b\n", file="f.yaml")
    assert loaded.document is not None
    assert loaded.document.data == {"1": "a", "yes": "b"}


def test_tags_never_build_objects() -> None:
    for text in (
        "a: !!python/object/apply:os.system ['true']\n",
        "a: !!binary aGk=\n",
        "a: !!set {x}\n",
        "a: !custom x\n",
    ):
        loaded = _load(text)
        assert loaded.document is None  # type: ignore[attr-defined]
        (problem,) = loaded.problems  # type: ignore[attr-defined]
        assert "is not allowed" in problem.message


def test_an_alias_bomb_is_refused_fast() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    # The process's own CPU time, not the wall clock: other test processes (pytest -n) and
    # other jobs on the machine must not make a bounded parse look unbounded.
    started = time.process_time()
    loaded = load_yaml("\n".join(lines).encode(), file="f.yaml")
    assert time.process_time() - started < 1.0
    (problem,) = loaded.problems
    assert f"{MAX_NODES:,}" in problem.message


def test_a_self_referencing_alias_is_refused() -> None:
    loaded = load_yaml(b"a: &a [*a]\n", file="f.yaml")
    assert loaded.document is None and loaded.problems


def test_a_huge_file_is_refused_before_parsing() -> None:
    data = b"description: " + b"x" * (5 * 1024 * 1024) + b"\n"
    started = time.perf_counter()
    loaded = load_yaml(data, file="f.yaml")
    assert time.perf_counter() - started < 0.2
    (problem,) = loaded.problems
    assert "too large to be a series" in problem.message


def test_bytes_that_are_not_utf8_give_their_line() -> None:
    loaded = load_yaml(b"a: 1\nb: 2\ninfo: caf\xe9\n", file="f.yaml")
    (problem,) = loaded.problems
    assert (problem.line, problem.column) == (3, 10)
    assert "not UTF-8" in problem.message


def test_a_utf8_bom_is_accepted() -> None:
    loaded = load_yaml("\ufeffa: é\n".encode(), file="f.yaml")
    assert loaded.ok


def test_empty_and_comment_only_files() -> None:
    for data in (b"", b"\n\n", b"# nothing yet\n"):
        (problem,) = load_yaml(data, file="f.yaml").problems
        assert "empty" in problem.message


def test_the_top_level_must_be_a_mapping() -> None:
    (problem,) = load_yaml(b"- a\n- b\n", file="f.yaml").problems
    assert "not a list" in problem.message and problem.line == 1
    (problem,) = load_yaml(b"hello\n", file="f.yaml").problems
    assert "not a single value" in problem.message


def test_parse_errors_have_a_position_and_plain_words() -> None:
    (problem,) = load_yaml(b"a: 1\nb: Sale: 10%\n", file="f.yaml").problems
    assert (problem.line, problem.column) == (2, 8)
    assert "put quotes around" in problem.message
    (problem,) = load_yaml(b"a:\n\t- b\n", file="f.yaml").problems
    assert problem.line == 2 and "tab" in problem.message


def test_deep_nesting_is_refused() -> None:
    loaded = load_yaml(b"a: " + b"[" * 200 + b"]" * 200 + b"\n", file="f.yaml")
    assert loaded.document is None and loaded.problems


@pytest.mark.parametrize(
    "text",
    [
        "info: " + "[" * 30_000 + "]" * 30_000,
        "info: " + "{a: " * 30_000 + "}" * 30_000,
        "info:\n  " + "- " * 30_000 + "x",
        "info: " + "[{a: " * 20_000 + "}]" * 20_000,
    ],
    ids=["flow-lists", "flow-maps", "block-lists", "mixed"],
)
def test_deep_nesting_is_refused_before_the_c_composer_recurses(text: str) -> None:
    # Before the fix the C composer overflowed the stack: exit 139, no Python error at all.
    # So the load runs in a child process, where a segfault is a failed assertion.
    code = (
        "import sys\n"
        "from reconciler.files.yamlsafe import load_yaml\n"
        "loaded = load_yaml(sys.stdin.buffer.read(), file='f.yaml')\n"
        "print(loaded.problems[0].line, loaded.problems[0].message)\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", code], input=text.encode(), capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-500:]
    assert b"nested more than 64 levels" in done.stdout
    assert time.monotonic() - started < 30


def test_the_node_count_is_bounded_before_composing() -> None:
    loaded = load_yaml(b"a: [" + b"1," * (MAX_NODES + 10) + b"]\n", file="f.yaml")
    assert loaded.document is None
    assert "more than 100,000 values" in loaded.problems[0].message


def test_a_file_is_parsed_once_and_deeper_positions_only_when_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from reconciler.files import yamlevents

    parses: list[str] = []
    real = yamlevents._LOADER

    def counting(text: str) -> object:
        parses.append(text)
        return real(text)

    monkeypatch.setattr(yamlevents, "_LOADER", counting)
    text = b"description: x\nproductInfo:\n  - productType: SKU\n    productIds: [1, 2]\n"
    loaded = load_yaml(text, file="f.yaml")
    assert loaded.ok and loaded.document is not None and len(parses) == 1
    doc = loaded.document
    # The top level, asked of every field, is kept from the first parse.
    assert doc.where(("productInfo",), key=True) == Mark(2, 1)
    assert doc.where(("description",)) == Mark(1, 14) and len(parses) == 1
    # A deeper position parses the text once more, then keeps every position.
    assert doc.where(("productInfo", 0, "productIds", 1)) == Mark(4, 21)
    assert doc.where(("productInfo", 0), key=True) == Mark(3, 5) and len(parses) == 2
    # What a checked file keeps: its positions, not its values.
    slim = doc.located_only()
    assert slim.data == {} and slim.where(("productInfo", 0, "productType")) == Mark(3, 18)


def test_positions_inside_an_alias_are_those_of_what_it_names() -> None:
    loaded = load_yaml(b"a: &x [1, {k: v}]\nb: *x\nc: &s text\nd: *s\n", file="f.yaml")
    assert loaded.ok and loaded.document is not None
    doc = loaded.document
    assert doc.data == {"a": [1, {"k": "v"}], "b": [1, {"k": "v"}], "c": "text", "d": "text"}
    assert doc.data["a"] is not doc.data["b"]  # each use its own value
    assert doc.where(("b",)) == Mark(2, 4)  # where the alias is written
    assert doc.where(("b", 1, "k"), key=True) == Mark(1, 12)  # inside: the anchored value
    assert doc.where(("d",)) == Mark(4, 4)


@pytest.mark.parametrize(
    "text", ["a: !!int ''\n", 'a: !!float ""\n', "a: !!bool ''\n", "a: !!bool maybe\n"]
)
def test_an_explicit_number_tag_on_empty_text_is_a_problem_not_a_crash(text: str) -> None:
    (problem,) = load_yaml(text.encode(), file="f.yaml").problems
    assert problem.line == 1 and "is not a valid value" in problem.message


def test_more_than_one_document_and_anchors_are_problems_with_their_line() -> None:
    cases = {
        b"a: 1\n---\nb: 2\n": (2, "more than one YAML document"),
        b"a: *nothing\n": (1, "no anchor"),
        b"a: &x 1\nb: &x 2\n": (2, "the same anchor"),
        b"a: &a [*a]\n": (1, "inside the value it names"),
        b"? [a]\n: 1\n": (1, "a key must be a plain name"),
    }
    for text, (line, words) in cases.items():
        (problem,) = load_yaml(text, file="f.yaml").problems
        assert (problem.line, words in problem.message) == (line, True), (text, problem)


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
)
_KEYS = st.from_regex(r"\A[a-zA-Z][a-zA-Z0-9_]{0,8}\Z")
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(data=st.dictionaries(_KEYS, _VALUES, min_size=1, max_size=6), flow=st.booleans())
def test_values_and_positions_agree_with_pyyaml_s_own_composer(
    data: dict[str, object], flow: bool
) -> None:
    # The oracle is PyYAML itself: its loader for the values, its composer's nodes for the
    # positions (the builder here reads libyaml's events instead, and keeps fewer of them).
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True, sort_keys=False)
    loaded = load_yaml(text.encode(), file="f.yaml")
    assert loaded.ok and loaded.document is not None, loaded.problems
    assert loaded.document.data == yaml.load(text, Loader=yaml.CSafeLoader)
    expected_keys: dict[tuple[object, ...], Mark] = {}
    expected_values: dict[tuple[object, ...], Mark] = {}

    def walk(node: yaml.Node, path: tuple[object, ...]) -> None:
        expected_values[path] = Mark(node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                mark = Mark(key.start_mark.line + 1, key.start_mark.column + 1)
                expected_keys[(*path, key.value)] = mark
                walk(value, (*path, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    walk(yaml.compose(text, Loader=yaml.CSafeLoader), ())
    document = loaded.document
    for path, mark in expected_keys.items():
        assert document.where(path, key=True) == mark, path  # type: ignore[arg-type]
    for path, mark in expected_values.items():
        if path:
            assert document.where(path) == mark, path  # type: ignore[arg-type]
